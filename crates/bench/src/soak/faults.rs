//! The faults the soak injects, in turn: `kill -9` of the supervisor (restarted at once; it
//! must re-adopt every holder), SIGSTOP/SIGCONT of it, a holder's client that writes half a
//! frame and dies (a child process: `paddock-bench __half-frame SOCKET WHERE`), and every WSS
//! connection dropped at once.

use super::clients::Shared;
use super::options::SoakOptions;
use super::sessions::SessionSet;
use super::{watch, Violations};
use crate::endpoint::Endpoint;
use crate::harness::process_alive;
use anyhow::Context;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use paddock_client::HostClient;
use paddock_host::client::Client;
use paddock_proto::frame::encode_control;
use paddock_proto::{Hello, Message, Mode, Request};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The child that dies mid-frame.
pub const HALF_FRAME: &str = "__half-frame";

/// A free loopback port, so that the supervisor keeps its address across restarts.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?.port())
}

/// How many faults of each kind were injected, and how long re-adoption took.
#[derive(Debug, Default, Clone)]
pub struct FaultCounts {
    pub kills: u64,
    pub stops: u64,
    pub half_frames: u64,
    pub drops: u64,
    /// Restart → every session listed again, per `kill -9`.
    pub readopt: Vec<Duration>,
}

pub struct Injector {
    exe: PathBuf,
    set: SessionSet,
    stop_for: Duration,
    turn: u64,
    counts: FaultCounts,
}

impl Injector {
    pub fn new(opts: &SoakOptions, set: &SessionSet) -> Self {
        Self {
            exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("paddock-bench")),
            set: set.clone(),
            stop_for: opts.stop_for,
            turn: 0,
            counts: FaultCounts::default(),
        }
    }

    pub fn counts(&self) -> FaultCounts {
        self.counts.clone()
    }

    /// Injects the next fault and waits until the supervisor lists every session again.
    pub async fn inject(
        &mut self,
        ep: &mut Endpoint,
        hc: &HostClient,
        ids: &[String],
        shared: &Shared,
        v: &Violations,
    ) {
        let turn = self.turn;
        self.turn += 1;
        match turn % 4 {
            0 => {
                eprintln!("soak: fault: kill -9 of the supervisor (pid {})", ep.pid());
                self.counts.kills += 1;
                if let Err(e) = ep.respawn() {
                    return v.add("supervisor restart", format!("{e:#}"));
                }
                let t0 = Instant::now();
                match watch::wait_listed(hc, ids, Duration::from_secs(30)).await {
                    Ok(()) => self.counts.readopt.push(t0.elapsed()),
                    Err(e) => v.add("re-adoption", format!("after kill -9 and a restart: {e:#}")),
                }
                return;
            }
            1 => {
                eprintln!(
                    "soak: fault: SIGSTOP of the supervisor for {:?}",
                    self.stop_for
                );
                self.counts.stops += 1;
                let pid = Pid::from_raw(ep.pid() as i32);
                let _ = kill(pid, Signal::SIGSTOP);
                tokio::time::sleep(self.stop_for).await;
                let _ = kill(pid, Signal::SIGCONT);
            }
            2 => {
                let s = &self.set.0[(turn / 4) as usize % self.set.len()];
                let at = if turn % 8 == 2 {
                    "hello"
                } else {
                    "after-hello"
                };
                eprintln!(
                    "soak: fault: a client of session {} dies mid-frame ({at})",
                    s.index
                );
                self.counts.half_frames += 1;
                let status = Command::new(&self.exe)
                    .args([HALF_FRAME, &s.session.socket.to_string_lossy(), at])
                    .status();
                if !matches!(&status, Ok(st) if !st.success()) {
                    v.add(
                        "half frame",
                        format!("the dying client did not die: {status:?}"),
                    );
                }
                if !process_alive(s.session.holder_pid) {
                    return v.add(
                        "no agent lost",
                        format!(
                            "session {}'s holder died when a client died mid-frame",
                            s.index
                        ),
                    );
                }
                let hello = Hello::control(Mode::ReadOnly);
                let again = tokio::time::timeout(
                    Duration::from_secs(10),
                    Client::connect(&s.session.socket, hello),
                );
                if !matches!(again.await, Ok(Ok(_))) {
                    v.add(
                        "half frame",
                        format!(
                            "session {}'s holder takes no new client after one died mid-frame",
                            s.index
                        ),
                    );
                }
            }
            _ => {
                eprintln!("soak: fault: every WSS connection dropped");
                self.counts.drops += 1;
                shared.drop_all.notify_waiters();
            }
        }
        if let Err(e) = watch::wait_listed(hc, ids, Duration::from_secs(30)).await {
            v.add("no agent lost", format!("after a fault: {e:#}"));
        }
    }
}

/// The child: connects to a holder, writes half a frame (of the hello, or of a request
/// after a whole hello) and kills itself.
pub fn half_frame_child(args: &[String]) -> ExitCode {
    let (Some(socket), Some(at)) = (args.first(), args.get(1)) else {
        eprintln!("paddock-bench: {HALF_FRAME} needs SOCKET and hello|after-hello");
        return ExitCode::from(2);
    };
    let Ok(mut sock) = std::os::unix::net::UnixStream::connect(socket) else {
        eprintln!("paddock-bench: {HALF_FRAME}: cannot connect to {socket}");
        return ExitCode::from(2);
    };
    let mut bytes = Vec::new();
    let hello = Message::Request {
        id: 1,
        payload: Request::Hello(Hello::new(Mode::ReadOnly)),
    };
    encode_control(&hello, &mut bytes);
    let cut = if at == "hello" {
        bytes.len() / 2
    } else {
        let whole = bytes.len();
        encode_control(
            &Message::Request {
                id: 2,
                payload: Request::Info,
            },
            &mut bytes,
        );
        whole + (bytes.len() - whole) / 2
    };
    let _ = std::io::Write::write_all(&mut sock, &bytes[..cut]);
    let _ = nix::sys::signal::raise(Signal::SIGKILL);
    ExitCode::SUCCESS
}
