//! What an idle holder costs: its resident memory, and how often any of its threads wakes
//! while nothing happens, first with no client and then with one streaming client attached
//! (a terminal left open); then its memory once 1 MiB of output has passed through.
//!
//! The agent is `sh` waiting in `read`. Wakeups are context switches (voluntary +
//! involuntary) summed over every thread in `/proc/<holder>/task/*/status`, which grow only
//! when a thread runs. Each window starts after a quiet lead-in, so the tail of whatever
//! came before is not counted.

use crate::harness::Harness;
use crate::options::Options;
use crate::procfs;
use crate::report::{Report, Row};
use anyhow::{bail, Context};
use paddock_host::client::{Client, Event};
use paddock_proto::{Hello, Mode, Request, Response, Start};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Quiet time before each window.
const LEAD_IN: Duration = Duration::from_secs(1);
/// Output pushed through after the windows.
const OUTPUT: u64 = 1 << 20;
/// Idle RSS target: 3 MiB.
const TARGET_RSS_KIB: u64 = 3 * 1024;
const ECHO: u64 = 2;

/// One idle window.
struct Window {
    rss: Rss,
    per_second: Vec<u64>,
    by_thread: BTreeMap<String, u64>,
}

impl Window {
    fn wakeups(&self) -> u64 {
        self.per_second.iter().sum()
    }

    fn threads(&self) -> String {
        if self.by_thread.is_empty() {
            return "every thread stayed asleep".to_owned();
        }
        let woke: Vec<String> = self
            .by_thread
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        format!("woke: {}", woke.join(", "))
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "rss": self.rss.json(),
            "wakeups": self.wakeups(),
            "wakeups_per_second": self.per_second,
            "wakeups_by_thread": self.by_thread,
        })
    }
}

struct Idle {
    alone: Window,
    attached: Window,
    after_output_attached: Rss,
    after_output_alone: Rss,
}

fn mib(kib: u64) -> String {
    format!("{:.2} MiB", kib as f64 / 1024.0)
}

fn split(r: Rss) -> String {
    format!("{} anonymous + {} file-backed", mib(r.anon), mib(r.file))
}

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    let secs = opts.idle.as_secs();
    eprintln!(
        "idle: two {secs} s windows, each after a {} s lead-in",
        LEAD_IN.as_secs()
    );
    let m = match measure(h, rt, opts.idle) {
        Ok(m) => m,
        Err(e) => return report.fail("Idle holder", &e),
    };
    report.add(
        Row::new("Idle holder RSS (VmRSS), no client", mib(m.alone.rss.total))
            .beside(split(m.alone.rss))
            .target("≤ 3 MiB", m.alone.rss.total <= TARGET_RSS_KIB),
    );
    report.add(
        Row::new(
            format!("Idle holder wakeups in {secs} s, no client"),
            m.alone.wakeups().to_string(),
        )
        .beside(m.alone.threads())
        .target("0", m.alone.wakeups() == 0),
    );
    report.add(
        Row::new(
            "Idle holder RSS, 1 client attached",
            mib(m.attached.rss.total),
        )
        .beside(split(m.attached.rss)),
    );
    report.add(
        Row::new(
            format!("Idle holder wakeups in {secs} s, 1 client attached"),
            m.attached.wakeups().to_string(),
        )
        .beside(m.attached.threads())
        .target("0", m.attached.wakeups() == 0),
    );
    report.add(
        Row::new(
            "Holder RSS after 1 MiB of output",
            mib(m.after_output_attached.total),
        )
        .beside(format!(
            "{}, client attached, one snapshot taken; {} once every client left",
            split(m.after_output_attached),
            mib(m.after_output_alone.total)
        )),
    );
    report.record(
        "idle",
        json!({
            "window_secs": secs,
            "no_client": m.alone.json(),
            "one_client": m.attached.json(),
            "after_1mib_attached": m.after_output_attached.json(),
            "after_1mib_no_client": m.after_output_alone.json(),
        }),
    );
}

fn measure(h: &mut Harness, rt: &Runtime, window: Duration) -> anyhow::Result<Idle> {
    let file = h.text_file("1mib.txt", OUTPUT)?;
    let script = format!("read x; cat {}; exec sleep 1000000", file.path.display());
    let session = h.start_session(&[], &["sh", "-c", &script])?;
    let pid = session.holder_pid;
    let socket = session.socket.clone();
    let result = rt.block_on(async move {
        let alone = idle_window(pid, window).await?;

        let hello = Hello {
            start: Start::End,
            lossless: true,
            client_name: Some("bench".into()),
            ..Hello::new(Mode::ReadWrite)
        };
        let mut client = Client::connect(&socket, hello).await?;
        // The answer comes from the connection's writer task: it runs.
        client.request(Request::Info).await?;
        let attached = idle_window(pid, window).await?;

        // 1 MiB through: the agent cats the file once "\r" is typed.
        client.send_input(b"\r").await?;
        let want = ECHO + file.tty_bytes();
        let mut got = 0u64;
        while got < want {
            match tokio::time::timeout(Duration::from_secs(30), client.next_event())
                .await
                .context("output stalled")??
            {
                Some(Event::Output { data, .. }) => got += data.len() as u64,
                Some(Event::Error { error, .. }) => bail!("the holder refused: {error}"),
                Some(_) => {}
                None => bail!("the holder closed the connection"),
            }
        }
        // An attach makes the model parse everything first, so its memory counts too.
        let mut viewer = Client::connect(&socket, Hello::new(Mode::ReadOnly)).await?;
        loop {
            match viewer.next_event().await? {
                Some(Event::Snapshot { .. }) => break,
                Some(_) => {}
                None => bail!("the holder closed the connection"),
            }
        }
        drop(viewer);
        let after_output_attached = Rss::of(pid)?;
        drop(client);
        wait_until_alone(&socket).await?;
        // The probe's own request faulted code in again; its close trims it once more.
        let probed = Rss::of(pid)?;
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut after_output_alone = probed;
        while after_output_alone.total >= probed.total && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
            after_output_alone = Rss::of(pid)?;
        }
        Ok(Idle {
            alone,
            attached,
            after_output_attached,
            after_output_alone,
        })
    });
    h.stop(&session);
    result
}

/// The deliberate idle window: a lead-in, then a sample every second.
async fn idle_window(pid: u32, window: Duration) -> anyhow::Result<Window> {
    tokio::time::sleep(LEAD_IN).await;
    let first = procfs::threads(pid)?;
    let mut prev = first.clone();
    let mut per_second = Vec::new();
    for _ in 0..window.as_secs().max(1) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = procfs::threads(pid)?;
        per_second.push(
            procfs::growth(&prev, &now)
                .values()
                .map(|t| t.switches)
                .sum(),
        );
        prev = now;
    }
    let by_thread = procfs::growth(&first, &prev)
        .into_iter()
        .map(|(name, t)| (name, t.switches))
        .collect();
    Ok(Window {
        rss: Rss::of(pid)?,
        per_second,
        by_thread,
    })
}

/// Waits until the holder counts no streaming client. A holder left alone gives back its
/// code pages when the last client goes, before it answers the next request.
async fn wait_until_alone(socket: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut probe = Client::connect(socket, Hello::control(Mode::ReadOnly)).await?;
        if let Response::Info { session } = probe.request(Request::Info).await? {
            if session.clients == 0 {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            bail!("the holder still counts a client 5 s after the last one left");
        }
    }
}

/// Resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy)]
struct Rss {
    /// VmRSS: everything resident.
    total: u64,
    /// RssAnon: heap, stacks, the ring; private to the holder.
    anon: u64,
    /// RssFile: pages of the binary and libraries, mostly shared with other processes.
    file: u64,
}

impl Rss {
    fn of(pid: u32) -> anyhow::Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("holder {pid} is gone"))?;
        let field = |key: &str| {
            crate::supervisor::status_kib(&status, key)
                .with_context(|| format!("no {key} in the holder's status"))
        };
        Ok(Self {
            total: field("VmRSS:")?,
            anon: field("RssAnon:")?,
            file: field("RssFile:")?,
        })
    }

    fn json(self) -> serde_json::Value {
        json!({ "vm_rss_kib": self.total, "rss_anon_kib": self.anon, "rss_file_kib": self.file })
    }
}
