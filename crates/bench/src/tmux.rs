//! tmux as the comparison: a private server (its own socket, no config file) with one
//! 200×50 session, and a control-mode client (`tmux -C attach`) whose `%output` lines carry
//! what the pane wrote, with bytes below 0x20 and `\` escaped as `\ooo` octal.

use crate::harness::{Cleanup, Harness, COLS, ROWS};
use anyhow::{bail, Context};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// A tmux server running one session; killed on drop.
pub struct Tmux {
    socket: PathBuf,
    session: String,
    /// The pane the session's command runs in, e.g. `%0`.
    pub pane: String,
    /// The server's and the pane process's pids, also known to the harness's cleanup.
    pids: Vec<u32>,
    cleanup: Cleanup,
}

impl Tmux {
    /// Starts a server with a socket in the harness's directory and a detached 200×50
    /// session named `session` running `command`.
    pub fn start(h: &Harness, session: &str, command: &[&str]) -> anyhow::Result<Self> {
        let (cols, rows) = (COLS.to_string(), ROWS.to_string());
        let mut tmux = Self {
            socket: h.tmux_socket(session),
            session: session.to_owned(),
            pane: String::new(),
            pids: Vec::new(),
            cleanup: h.cleanup_handle(),
        };
        let mut args = vec!["new-session", "-d", "-s", session, "-x", &cols, "-y", &rows];
        args.extend(["-P", "-F", "#{pane_id}"]);
        args.extend(command);
        tmux.pane = run(tmux.cmd(), &args)?.trim().to_owned();
        // Killed by pid at cleanup: `kill-server` waits for clients, and a control client
        // blocked on a full stdout pipe never leaves.
        let out = tmux
            .cmd()
            .args([
                "display-message",
                "-p",
                "-t",
                &tmux.pane,
                "#{pid} #{pane_pid}",
            ])
            .output()?;
        let pids = String::from_utf8_lossy(&out.stdout).into_owned();
        for (i, pid) in pids.split_whitespace().enumerate() {
            let pid: u32 = pid.parse().context("tmux printed a bad pid")?;
            // The pane's process leads its own session: its group goes too.
            tmux.cleanup.track(pid, i == 1);
            tmux.pids.push(pid);
        }
        Ok(tmux)
    }

    /// `tmux 3.3a`, or `None` when tmux is not installed.
    pub fn version() -> Option<String> {
        let out = Command::new("tmux").arg("-V").output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).args(["-f", "/dev/null"]);
        cmd
    }

    /// Attaches a control-mode client and waits until it answers commands.
    pub fn control(&self, deadline: Instant) -> anyhow::Result<Control> {
        let mut child = self
            .cmd()
            .args(["-C", "attach", "-t", &self.session])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start `tmux -C attach`")?;
        self.cleanup.track(child.id(), false);
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("tmux -C has no pipes");
        };
        let mut control = Control {
            cleanup: self.cleanup.clone(),
            child,
            stdin,
            out: BufReader::with_capacity(1 << 20, stdout),
            line: Vec::new(),
            complete: false,
            pane: self.pane.clone(),
            output_prefix: format!("%output {} ", self.pane).into_bytes(),
        };
        control.sync(deadline)?;
        Ok(control)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").stderr(Stdio::null()).status();
    }
}

/// A `tmux -C` client: commands go in on its stdin, replies and `%output` come out.
pub struct Control {
    cleanup: Cleanup,
    child: Child,
    stdin: ChildStdin,
    out: BufReader<ChildStdout>,
    /// The line being read; complete once `complete` is set.
    line: Vec<u8>,
    complete: bool,
    pane: String,
    output_prefix: Vec<u8>,
}

impl Control {
    /// Writes one command line.
    pub fn send(&mut self, command: &str) -> anyhow::Result<()> {
        self.stdin.write_all(command.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()?;
        Ok(())
    }

    /// Runs a `display` of a marker and reads up to its reply, so that everything sent
    /// before has been handled.
    pub fn sync(&mut self, deadline: Instant) -> anyhow::Result<()> {
        let marker = format!("paddock-bench-sync-{}", self.child.id());
        self.send(&format!("display-message -p {marker}"))?;
        while self.expect_line(deadline)? != marker.as_bytes() {}
        while !self.expect_line(deadline)?.starts_with(b"%end") {}
        Ok(())
    }

    /// Types `x` into the pane until an echo shows: a control client that has not yet seen
    /// output from a pane can miss its first output (tmux 3.3a, under load: the echo of
    /// the first keystroke never came). The echoes that follow are the caller's to drain;
    /// the pane's line then holds one or more `x`.
    pub fn prime(&mut self, deadline: Instant) -> anyhow::Result<()> {
        let command = format!("send-keys -t {} -l x", self.pane);
        loop {
            self.send(&command)?;
            let retry = Instant::now() + Duration::from_millis(250);
            if self.next_output(retry.min(deadline))?.is_some() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("tmux -C never showed the pane's output");
            }
        }
    }

    /// The escaped data of the next `%output` line of our pane (other lines are skipped),
    /// or `None` once `deadline` has passed.
    pub fn next_output(&mut self, deadline: Instant) -> anyhow::Result<Option<&[u8]>> {
        loop {
            if !self.read_line(deadline)? {
                return Ok(None);
            }
            if self.line.starts_with(&self.output_prefix) {
                return Ok(Some(&self.line[self.output_prefix.len()..]));
            }
        }
    }

    /// Like [`Control::next_output`], failing at the deadline.
    pub fn expect_output(&mut self, deadline: Instant) -> anyhow::Result<&[u8]> {
        match self.next_output(deadline)? {
            Some(data) => Ok(data),
            None => bail!("tmux -C sent no output for the pane before the deadline"),
        }
    }

    /// The next line, without its newline; fails at the deadline.
    fn expect_line(&mut self, deadline: Instant) -> anyhow::Result<&[u8]> {
        if !self.read_line(deadline)? {
            bail!("tmux -C sent nothing before the deadline");
        }
        Ok(&self.line)
    }

    /// Reads until a whole line is in `line`; false if `deadline` passed first (a partial
    /// line is kept for the next call).
    fn read_line(&mut self, deadline: Instant) -> anyhow::Result<bool> {
        if self.complete {
            self.line.clear();
            self.complete = false;
        }
        loop {
            if self.out.buffer().is_empty() && !self.wait_readable(deadline)? {
                return Ok(false);
            }
            let avail = self.out.fill_buf()?;
            if avail.is_empty() {
                bail!("the tmux control client exited");
            }
            match avail.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.line.extend_from_slice(&avail[..i]);
                    self.out.consume(i + 1);
                    self.complete = true;
                    return Ok(true);
                }
                None => {
                    let n = avail.len();
                    self.line.extend_from_slice(avail);
                    self.out.consume(n);
                }
            }
        }
    }

    /// Whether stdout became readable before `deadline`.
    fn wait_readable(&mut self, deadline: Instant) -> anyhow::Result<bool> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.out.get_ref().as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, PollTimeout::from(ms))? > 0 {
                return Ok(true);
            }
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.cleanup.forget(self.child.id());
    }
}

/// How many bytes the pane wrote for `data`, an escaped `%output` payload: each `\ooo`
/// stands for one byte.
pub fn decoded_len(data: &[u8]) -> usize {
    data.len() - 3 * data.iter().filter(|&&b| b == b'\\').count()
}

/// Runs `tmux` (`cmd`, which names the server) with `args` and returns what it printed; a
/// failure says which command failed and what tmux said.
pub(crate) fn run(mut cmd: Command, args: &[&str]) -> anyhow::Result<String> {
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run tmux; install it or pass --no-tmux")?;
    if !out.status.success() {
        bail!(
            "tmux {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_escapes_count_as_one_byte() {
        assert_eq!(decoded_len(br"abc\015\012"), 5);
        assert_eq!(decoded_len(br"\134"), 1);
        assert_eq!(decoded_len(b""), 0);
    }
}
