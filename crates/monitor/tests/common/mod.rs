//! Test harness: real child processes that are killed (with their whole process group) on
//! drop, and waiting on named conditions with deadlines.
#![allow(dead_code)]

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A process tree started for a test, in its own process group.
pub struct Spawned {
    pub child: Child,
    stdin: Option<ChildStdin>,
}

impl Spawned {
    /// `sh -c script`, with a pipe on its standard input.
    pub fn sh(script: &str) -> Self {
        Self::command(Command::new("sh").arg("-c").arg(script))
    }

    /// `bash -c script` (bash reaps its background jobs as they exit; dash only when it waits).
    pub fn bash(script: &str) -> Self {
        Self::command(Command::new("bash").arg("-c").arg(script))
    }

    /// Any command, with a pipe on its standard input.
    pub fn command(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn a test process");
        let stdin = child.stdin.take();
        Self { child, stdin }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes one line to the process's standard input.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is piped");
        writeln!(stdin, "{line}").expect("write to the test process");
        stdin.flush().expect("flush");
    }

    /// Kills the whole group and reaps the root.
    pub fn kill(&mut self) {
        let _ = killpg(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` until it returns `Some`, or panics after `timeout` naming `what`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends a signal to one process.
pub fn signal(pid: u32, sig: Signal) {
    nix::sys::signal::kill(Pid::from_raw(pid as i32), sig).expect("send a signal");
}
