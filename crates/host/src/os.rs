//! The holder's two process-level settings that need `unsafe`: SIGPIPE handling that agents do
//! not inherit, and dropping start-up code pages from the resident set. Each `unsafe` block
//! says why it is sound.
#![allow(unsafe_code)]

use nix::sys::signal::{self, Signal as NixSignal};

extern "C" fn ignore_signal(_: nix::libc::c_int) {}

/// Makes writes to a closed socket fail with EPIPE in this process (as Rust's default
/// SIG_IGN does) while letting the agents we spawn start with SIGPIPE at its default.
///
/// An ignored signal stays ignored across `exec`, so with Rust's default every agent (and
/// every `yes | head` inside it) would run with SIGPIPE ignored. A caught signal is reset to
/// its default by `exec`, so catching it with a handler that does nothing gives both.
pub fn let_children_default_sigpipe() -> nix::Result<()> {
    let action = signal::SigAction::new(
        signal::SigHandler::Handler(ignore_signal),
        signal::SaFlags::SA_RESTART,
        signal::SigSet::empty(),
    );
    // Safety: the handler is an empty `extern "C"` function, which is async-signal-safe, and
    // replacing SIGPIPE's disposition does not invalidate any other handler's assumptions.
    unsafe { signal::sigaction(NixSignal::SIGPIPE, &action) }.map(|_| ())
}

/// A new descriptor for the open file behind `fd` (a `dup`), owned by the caller.
pub fn dup_fd(fd: std::os::fd::RawFd) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let new = nix::unistd::dup(fd).map_err(std::io::Error::from)?;
    // Safety: `dup` just returned this descriptor; nothing else owns or will close it.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(new) })
}

/// Restores SIGPIPE's default action (terminate quietly), for command-line processes whose
/// output may go to a pipe that closes early (`paddock ls --json | head`), like other Unix
/// tools. Never call it in a holder or the supervisor.
pub fn default_sigpipe() {
    // Safety: SIG_DFL is always a valid disposition for SIGPIPE, and no handler that another
    // part of this process relies on is replaced (the CLI installs none).
    let _ = unsafe { signal::signal(NixSignal::SIGPIPE, signal::SigHandler::SigDfl) };
}

/// Drops this process's executable code pages (read-only, file-backed `r-xp` mappings) from
/// its resident set. Called when the holder goes idle: after start-up, and when its last
/// client disconnects. The code that served start-up or the clients is not needed while
/// idle; whatever runs next faults back in from the page cache (the pages are shared and
/// stay cached), so an idle holder's resident set is what it really keeps, not every page
/// it ever touched. Costs about 0.1 ms. Linux only; a no-op elsewhere or without /proc.
pub fn trim_code_pages() {
    #[cfg(target_os = "linux")]
    {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return;
        };
        for line in maps.lines() {
            let mut fields = line.split_whitespace();
            let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
                continue;
            };
            let path = fields.nth(3).unwrap_or("");
            // Only never-written code: `r-xp` and backed by a file. Writable or relocated
            // (RELRO) pages must never be dropped, they would revert to the file's bytes.
            if perms != "r-xp" || !path.starts_with('/') {
                continue;
            }
            let Some((start, end)) = range.split_once('-') else {
                continue;
            };
            let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) else {
                continue;
            };
            let Some(addr) = std::ptr::NonNull::new(start as *mut std::ffi::c_void) else {
                continue;
            };
            // Safety: the range is a read-only, executable, file-backed private mapping of
            // this process (from /proc/self/maps). MADV_DONTNEED on such a mapping only drops
            // page-table entries; the next access re-reads the identical bytes from the file
            // (page cache). Its pages are never written, so no state is lost, and threads
            // running that code meanwhile simply take a page fault.
            let _ = unsafe {
                nix::sys::mman::madvise(
                    addr,
                    end - start,
                    nix::sys::mman::MmapAdvise::MADV_DONTNEED,
                )
            };
        }
    }
}

/// Registers a PTY master with the current tokio runtime, for reading on it.
pub fn async_fd(file: std::fs::File) -> std::io::Result<tokio::io::unix::AsyncFd<std::fs::File>> {
    // SAFETY: `file` owns its descriptor, which stays open and refers to the same open file
    // description until the AsyncFd (which owns `file`) is dropped; `File::as_raw_fd` always
    // returns that descriptor.
    unsafe { tokio::io::unix::AsyncFd::register(file) }.map_err(|e| e.into_parts().1)
}

/// Makes `cmd`'s child start a session of its own (`setsid`), without a controlling
/// terminal: an interactive shell run only for its output (the owner's login environment)
/// cannot then take over the terminal of whoever started us.
pub fn without_terminal(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // Safety: the closure runs in the child between fork and exec and only calls setsid(2),
    // which is async-signal-safe; it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(|e| std::io::Error::from_raw_os_error(e as i32))
        });
    }
}
