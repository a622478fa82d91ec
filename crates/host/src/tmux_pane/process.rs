//! The pane's terminal and process as the OS sees them: its window size, its foreground
//! group, waiting for its end.

use nix::sys::signal;
use nix::unistd::Pid;
use paddock_proto::Size;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// The window size of the tty at `path`, read without making it our controlling terminal.
pub(super) fn tty_size(path: &Path) -> Option<Size> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let ws = rustix::termios::tcgetwinsize(&tty).ok()?;
    let size = Size {
        cols: ws.ws_col,
        rows: ws.ws_row,
    };
    size.is_valid().then_some(size)
}

/// The foreground process group of `pid`'s terminal.
pub(crate) fn foreground_group(pid: u32) -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command's closing parenthesis: state ppid pgrp session tty_nr tpgid.
        stat.rsplit_once(") ")?.1.split(' ').nth(5)?.parse().ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let out = std::process::Command::new("ps")
            .args(["-o", "tpgid=", "-p", &pid.to_string()])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }
}

/// Blocks until process `pid` (not our child) has ended.
pub(super) fn wait_for_exit(pid: u32) {
    #[cfg(target_os = "linux")]
    {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let fd = rustix::process::Pid::from_raw(pid as i32).and_then(|p| {
            rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok()
        });
        if let Some(fd) = fd {
            loop {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(n) if n > 0 => return,
                    Ok(_) | Err(nix::Error::EINTR) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot wait on the pane's process; polling it instead");
                        break;
                    }
                }
            }
        }
    }
    while signal::kill(Pid::from_raw(pid as i32), None).is_ok() {
        std::thread::sleep(Duration::from_secs(1));
    }
}
