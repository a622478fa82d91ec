//! A supervisor in the bench's own process (the `paddock-core` library, as the desktop app
//! runs it) on the harness's runtime directory, watching one held session: the set-up and the
//! wait on its event bus that `hooks.rs` and `osc.rs` share. Each bench then makes the
//! session change state its own way and times [`Watched::next_state`].

use anyhow::{bail, Context};
use paddock_core::events::{Event, Received, Subscriber};
use paddock_core::supervisor::Handle;
use paddock_proto::supervisor::SessionView;
use paddock_proto::SessionId;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long one adoption or one state change may take before the run is called failed.
pub const EVENT_LIMIT: Duration = Duration::from_secs(10);

/// The supervisor's data directory, in the system's temp dir, named for the bench and this
/// process; removed when dropped.
pub struct DataDir(PathBuf);

impl DataDir {
    pub fn create(bench: &str) -> anyhow::Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("paddock-bench-{bench}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running in-process supervisor that has adopted the session `id`.
pub struct Watched {
    sup: paddock_core::Supervisor,
    pub handle: Handle,
    pub id: SessionId,
}

impl Watched {
    /// Starts a supervisor with its data in `data` on the runtime directory `runtime`, and
    /// waits until it has adopted session `session` (held there by a real holder).
    pub async fn start(runtime: &Path, data: &DataDir, session: &str) -> anyhow::Result<Self> {
        let config = paddock_core::Config {
            data_dir: Some(data.path().to_owned()),
            ..Default::default()
        };
        let dir = paddock_host::RuntimeDir::open(runtime.to_owned())
            .context("cannot open the bench's runtime directory")?;
        let sup = paddock_core::Supervisor::start(config, data.path().join("config.toml"), dir)
            .context("cannot start the supervisor")?;
        let handle = sup.handle().clone();
        let id = SessionId::parse(session).map_err(|e| anyhow::anyhow!("bad session id: {e}"))?;
        let deadline = Instant::now() + EVENT_LIMIT;
        while handle.registry().get(&id).is_none() {
            if Instant::now() > deadline {
                bail!("the supervisor did not adopt the bench session");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(Self { sup, handle, id })
    }

    /// A subscription to the bus, taken before the change it is to see is caused.
    pub fn subscribe(&self) -> Subscriber {
        self.handle.bus().subscribe()
    }

    /// Waits on `events` for a `session_update` of the watched session for which `want`
    /// holds; `cause` names what should have caused it, for the error after [`EVENT_LIMIT`].
    pub async fn next_state(
        &self,
        events: &mut Subscriber,
        cause: &str,
        want: impl Fn(&SessionView) -> bool,
    ) -> anyhow::Result<()> {
        tokio::time::timeout(EVENT_LIMIT, async {
            loop {
                match events.recv().await {
                    Received::Event(Event::SessionUpdate { session: s })
                        if s.id == self.id && want(s.as_ref()) =>
                    {
                        return Ok(());
                    }
                    Received::Closed => bail!("the bus closed"),
                    _ => {}
                }
            }
        })
        .await
        .with_context(|| format!("no session_update within 10 s of {cause}"))?
    }

    pub async fn stop(self) {
        self.sup.stop().await;
    }
}
