//! Taking over a program started in a terminal Paddock does not hold (`paddock adopt PID`,
//! `POST /api/v1/sessions/adopt`), Linux only.
//!
//! The process is moved with reptyr (ptrace; see docs/design/holder.md, "Adopting a
//! process"): a new holder session runs `reptyr PID`, which opens a PTY of its own, points the
//! process's terminal descriptors at it, makes it that PTY's session leader and relays between
//! it and the holder's PTY. The session shows the adopted program (command, arguments,
//! directory and pid, read from `/proc`), so the supervisor measures and recognises it as for
//! any session; its signals reach the process too (`paddock_host::spec::Adopted`).
//!
//! Everything that would make reptyr fail, or take more than the one program, is checked
//! first and refused with the reason and what to do ([`TakeoverError`]). Before the move a
//! line on the old terminal says where the program went.

use crate::start::{self, StartError, StartRequest};
use paddock_host::spec::Adopted;
use paddock_host::RuntimeDir;
use paddock_proto::{SessionId, SessionInfo, Size};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the move may take: reptyr first waits up to 2 s for the program to stop on
/// SIGTSTP (a program that ignores it is moved anyway).
const MOVE_WAIT: Duration = Duration::from_secs(10);

/// What to take over.
#[derive(Debug, Clone)]
pub struct AdoptRequest {
    pub pid: u32,
    /// A name to refer to the session by; the program's name, made unique, when `None`.
    pub name: Option<String>,
    /// The new terminal's size.
    pub size: Size,
    /// Move the whole terminal (`reptyr -T`): every program on it, the shell that started
    /// the process included, instead of the process alone.
    pub whole_terminal: bool,
}

/// Why a process was not taken over. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TakeoverError {
    #[error("paddock adopt works on Linux only (it moves a running process with ptrace); on this system start the agent under Paddock instead: `paddock run -- claude`")]
    NotLinux,
    #[error("adopting a process needs reptyr, which is not installed (or not in PATH); install it (`sudo apt-get install reptyr` on Debian and Ubuntu, `sudo dnf install reptyr` on Fedora, `sudo pacman -S reptyr` on Arch), then try again")]
    NoReptyr,
    #[error("there is no process {0}; `ps -ef` shows the running ones")]
    NoProcess(u32),
    #[error("process {pid} belongs to another user (uid {uid}); only your own processes can be adopted: run `paddock adopt` as that user")]
    NotYours { pid: u32, uid: u32 },
    #[error("process {pid} ({command}) is not on a pseudo-terminal (a console, a serial line), whose whole terminal cannot be taken; adopt it alone (without --whole-terminal)")]
    NotPty { pid: u32, command: String },
    #[error("process {pid} ({command}) has no terminal, so there is nothing to take over; only a program running in a terminal can be adopted")]
    NoTerminal { pid: u32, command: String },
    #[error("process {pid} ({command}) already runs in Paddock session {id}; `paddock attach {id}` shows it")]
    AlreadyHeld {
        pid: u32,
        command: String,
        id: String,
    },
    #[error("process {pid} ({command}) shares its process group with {others}; only a program alone in its group can be moved by itself (its other processes would stay behind on the old terminal). Move its whole terminal instead, with every program on it: `paddock adopt --whole-terminal {pid}`")]
    SharedGroup {
        pid: u32,
        command: String,
        others: String,
    },
    #[error("this system does not let you trace your own processes (kernel.yama.ptrace_scope = {scope}), which moving a process needs; allow it with `sudo sysctl kernel.yama.ptrace_scope=0` (until reboot), or run `paddock adopt` as root")]
    PtraceScope { scope: u8 },
    #[error("the system refused to let reptyr trace process {pid} (ptrace: operation not permitted). A Yama setting (`kernel.yama.ptrace_scope`, 1 or more), a container without CAP_SYS_PTRACE, or a debugger already attached prevents it; `sudo sysctl kernel.yama.ptrace_scope=0` allows it until reboot. The program stays where it was")]
    PtraceDenied { pid: u32 },
    #[error(
        "reptyr could not move process {pid}; the program stays where it was. reptyr said: {said}{}",
        if said.contains("process group") {
            format!(" (it started processes in its group meanwhile; move its whole terminal instead: `paddock adopt --whole-terminal {pid}`)")
        } else {
            String::new()
        }
    )]
    Failed { pid: u32, said: String },
    #[error("process {pid} had not moved {} s after reptyr started (session {id}); `paddock logs {id}` shows what reptyr said and `paddock rm --force {id}` ends it", MOVE_WAIT.as_secs())]
    Timeout { pid: u32, id: SessionId },
    #[error("cannot read {path}: {source}")]
    Proc {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Start(#[from] StartError),
}

impl TakeoverError {
    /// Whether the request itself cannot work (as opposed to the machine failing).
    pub fn is_bad_request(&self) -> bool {
        match self {
            TakeoverError::Start(e) => e.is_bad_request(),
            TakeoverError::Timeout { .. } | TakeoverError::Proc { .. } => false,
            _ => true,
        }
    }
}

/// What `/proc` says about a process.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Proc {
    pid: u32,
    pgrp: i32,
    /// The controlling terminal as the kernel encodes it (`tty_nr`); 0 for none.
    tty_nr: u32,
}

/// Takes over process `req.pid`: checks it, tells its old terminal, starts a holder session
/// running reptyr, and returns the session's id once the process runs on the new terminal.
/// `exe` is the `paddock` binary that runs holders.
pub async fn adopt(
    req: AdoptRequest,
    dir: &RuntimeDir,
    exe: &Path,
) -> Result<SessionId, TakeoverError> {
    if !cfg!(target_os = "linux") {
        return Err(TakeoverError::NotLinux);
    }
    let existing = paddock_host::sessions::list(dir).await;
    let (dir2, exe2) = (dir.clone(), exe.to_owned());
    let prepared = tokio::task::spawn_blocking(move || prepare(&req, &existing, &dir2, &exe2))
        .await
        .map_err(|_| StartError::Interrupted)??;
    let Prepared {
        spec,
        target,
        tty_path,
    } = prepared;
    let id = spec.id.clone();
    note(
        &tty_path,
        &format!(
            "paddock: this program moved to Paddock session {id} ({}); `paddock attach {id}` shows it",
            spec.name
        ),
    );
    let (dir2, exe2, spec2) = (dir.clone(), exe.to_owned(), spec.clone());
    let ready = tokio::task::spawn_blocking(move || start::spawn(&exe2, &dir2, &spec2))
        .await
        .map_err(|_| StartError::Interrupted)??;
    let whole = spec.args.first().is_some_and(|a| a == "-T");
    match wait_moved(dir, &id, &target, whole.then_some(ready.holder_pid)).await {
        Ok(()) => Ok(id),
        Err(e) => {
            note(
                &tty_path,
                "paddock: taking this program over failed; it stays here",
            );
            Err(e)
        }
    }
}

struct Prepared {
    spec: paddock_host::HolderSpec,
    target: Proc,
    tty_path: PathBuf,
}

/// The checks, in the order a person would want to hear about them, and the holder's spec.
fn prepare(
    req: &AdoptRequest,
    existing: &[SessionInfo],
    dir: &RuntimeDir,
    exe: &Path,
) -> Result<Prepared, TakeoverError> {
    let reptyr = find_in_path("reptyr").ok_or(TakeoverError::NoReptyr)?;
    let pid = req.pid;
    let target = read_proc(pid)?;
    let argv = cmdline(pid)?;
    let command = argv.first().cloned().unwrap_or_default();
    let shown = display_name(&command);
    let uid = owner(pid)?;
    if uid != nix::unistd::geteuid().as_raw() {
        return Err(TakeoverError::NotYours { pid, uid });
    }
    if let Some(id) = held_by(pid, existing) {
        return Err(TakeoverError::AlreadyHeld {
            pid,
            command: shown,
            id,
        });
    }
    if target.tty_nr == 0 {
        return Err(TakeoverError::NoTerminal {
            pid,
            command: shown,
        });
    }
    let Some(tty_path) = terminal_path(pid, target.tty_nr) else {
        return Err(TakeoverError::NoTerminal {
            pid,
            command: shown,
        });
    };
    let others = group_members(&target);
    if req.whole_terminal {
        if !(136..=143).contains(&kernel_dev(target.tty_nr).0) {
            return Err(TakeoverError::NotPty {
                pid,
                command: shown,
            });
        }
    } else if !others.is_empty() {
        return Err(TakeoverError::SharedGroup {
            pid,
            command: shown,
            others: others.join(", "),
        });
    }
    if let Some(scope) = yama_scope() {
        if scope >= 3 || (scope >= 1 && !can_trace_any()) {
            return Err(TakeoverError::PtraceScope { scope });
        }
    }
    let cwd =
        std::fs::read_link(format!("/proc/{pid}/cwd")).map_err(|source| TakeoverError::Proc {
            path: format!("/proc/{pid}/cwd").into(),
            source,
        })?;
    let name = req
        .name
        .clone()
        .or_else(|| Some(start::unique_name(&command, existing)));
    let request = StartRequest {
        name,
        size: req.size,
        hooks: false,
        mcp: false,
        keep_nested_env: true,
        ..StartRequest::new(
            reptyr.display().to_string(),
            if req.whole_terminal {
                vec!["-T".to_owned(), pid.to_string()]
            } else {
                vec![pid.to_string()]
            },
            cwd,
        )
    };
    let mut spec = start::prepare(request, dir, existing, exe)?;
    spec.adopted = Some(Adopted {
        pid,
        command,
        args: argv.into_iter().skip(1).collect(),
    });
    Ok(Prepared {
        spec,
        target,
        tty_path,
    })
}

/// Waits until the process's terminal is reptyr's, or reptyr ended without moving it (then
/// says why, and removes the session). Alone, the process's controlling terminal changes to
/// reptyr's; with its whole terminal (`whole`: the holder's pid) the terminal stays and its
/// master moves into reptyr, the holder's child.
async fn wait_moved(
    dir: &RuntimeDir,
    id: &SessionId,
    target: &Proc,
    whole: Option<u32>,
) -> Result<(), TakeoverError> {
    let pid = target.pid;
    let socket = dir.socket_path(id);
    let deadline = tokio::time::Instant::now() + MOVE_WAIT;
    loop {
        match read_proc(pid) {
            Ok(now) if whole.is_none() && now.tty_nr != target.tty_nr && now.tty_nr != 0 => {
                return Ok(())
            }
            Ok(_) if whole.is_some_and(|holder| holds_master(holder, target.tty_nr)) => {
                return Ok(())
            }
            Ok(_) => {}
            // The program ended meanwhile: nothing left to move.
            Err(_) => {
                remove(&socket).await;
                return Err(TakeoverError::NoProcess(pid));
            }
        }
        if let Ok(info) = paddock_host::sessions::query(&socket).await {
            if info.state == paddock_proto::SessionState::Exited {
                let said = screen_text(&socket).await;
                remove(&socket).await;
                return Err(if said.contains("Operation not permitted") {
                    TakeoverError::PtraceDenied { pid }
                } else {
                    TakeoverError::Failed { pid, said }
                });
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(TakeoverError::Timeout {
                pid,
                id: id.clone(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What reptyr printed, as one line.
async fn screen_text(socket: &Path) -> String {
    use paddock_proto::{Hello, Mode, Request, Response};
    let Ok(mut client) =
        paddock_host::client::Client::connect(socket, Hello::control(Mode::ReadOnly)).await
    else {
        return String::new();
    };
    match client.request(Request::Screen).await {
        Ok(Response::Screen { rows, .. }) => rows
            .iter()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Ends a failed takeover's session at once (its holder would otherwise keep it for the
/// grace period).
async fn remove(socket: &Path) {
    use paddock_proto::{Hello, Mode, Request};
    if let Ok(mut client) =
        paddock_host::client::Client::connect(socket, Hello::control(Mode::ReadWrite)).await
    {
        let _ = client.request(Request::Remove { force: true }).await;
    }
}

/// Writes `line` on a terminal (best effort: a terminal that is gone or stuck is skipped).
fn note(tty: &Path, line: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
        .open(tty);
    match opened {
        Ok(mut f) => {
            if let Err(e) = f.write_all(format!("\r\n{line}\r\n").as_bytes()) {
                tracing::warn!(tty = %tty.display(), error = %e, "cannot write to the adopted program's old terminal");
            }
        }
        Err(e) => {
            tracing::warn!(tty = %tty.display(), error = %e, "cannot open the adopted program's old terminal")
        }
    }
}

fn proc_err(path: String) -> impl FnOnce(std::io::Error) -> TakeoverError {
    move |source| TakeoverError::Proc {
        path: path.into(),
        source,
    }
}

fn read_proc(pid: u32) -> Result<Proc, TakeoverError> {
    let path = format!("/proc/{pid}/stat");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TakeoverError::NoProcess(pid))
        }
        Err(e) => return Err(proc_err(path)(e)),
    };
    parse_stat(pid, &text).ok_or(TakeoverError::NoProcess(pid))
}

/// Parses `/proc/PID/stat`: after the command's closing parenthesis come state, ppid, pgrp,
/// session, tty_nr. A zombie has nothing to move.
fn parse_stat(pid: u32, text: &str) -> Option<Proc> {
    let rest = text.rsplit_once(") ")?.1;
    let mut fields = rest.split(' ');
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    let _session = fields.next()?;
    let tty_nr = fields.next()?.parse::<i64>().ok()?;
    Some(Proc {
        pid,
        pgrp,
        tty_nr: u32::try_from(tty_nr).unwrap_or(0),
    })
}

fn cmdline(pid: u32) -> Result<Vec<String>, TakeoverError> {
    let path = format!("/proc/{pid}/cmdline");
    let bytes = std::fs::read(&path).map_err(proc_err(path))?;
    Ok(bytes
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect())
}

fn display_name(command: &str) -> String {
    match Path::new(command).file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None if command.is_empty() => "?".to_owned(),
        None => command.to_owned(),
    }
}

fn owner(pid: u32) -> Result<u32, TakeoverError> {
    use std::os::unix::fs::MetadataExt;
    let path = format!("/proc/{pid}");
    Ok(std::fs::metadata(&path).map_err(proc_err(path))?.uid())
}

/// The session that holds `pid` already: it was adopted (it is a session's pid) or started
/// under a holder (it inherited `PADDOCK_SESSION_ID`).
fn held_by(pid: u32, existing: &[SessionInfo]) -> Option<String> {
    if let Some(s) = existing.iter().find(|s| s.pid == pid) {
        return Some(s.id.to_string());
    }
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    environ.split(|b| *b == 0).find_map(|var| {
        let value = var.strip_prefix(b"PADDOCK_SESSION_ID=")?;
        Some(String::from_utf8_lossy(value).into_owned())
    })
}

/// The terminal device among the process's standard descriptors that is its controlling
/// terminal (reptyr moves those descriptors; a program whose stdio is elsewhere cannot be
/// moved).
fn terminal_path(pid: u32, tty_nr: u32) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let want = kernel_dev(tty_nr);
    (0..3).find_map(|fd| {
        let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
        let meta = std::fs::metadata(&link).ok()?;
        (user_dev(meta.rdev()) == want).then_some(link)
    })
}

/// (major, minor) of a device number as the kernel writes it in `/proc/PID/stat`.
fn kernel_dev(nr: u32) -> (u64, u64) {
    let nr = u64::from(nr);
    ((nr >> 8) & 0xfff, (nr & 0xff) | ((nr >> 12) & 0xfff00))
}

/// (major, minor) of a device number as `stat(2)` returns it (glibc's encoding).
fn user_dev(dev: u64) -> (u64, u64) {
    (
        ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff),
        (dev & 0xff) | ((dev >> 12) & !0xff),
    )
}

/// Whether a child of `holder` (reptyr) holds the master of the pseudo-terminal `tty_nr`
/// (`tty-index` in the fd's `fdinfo`, Linux 4.14 and later).
fn holds_master(holder: u32, tty_nr: u32) -> bool {
    let index = kernel_dev(tty_nr).1;
    let children = std::fs::read_to_string(format!("/proc/{holder}/task/{holder}/children"))
        .unwrap_or_default();
    children.split_whitespace().any(|child| {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{child}/fd")) else {
            return false;
        };
        fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|l| l == Path::new("/dev/ptmx"))
                && std::fs::read_to_string(format!(
                    "/proc/{child}/fdinfo/{}",
                    fd.file_name().to_string_lossy()
                ))
                .is_ok_and(|info| {
                    info.lines()
                        .filter_map(|l| l.strip_prefix("tty-index:"))
                        .any(|n| n.trim().parse() == Ok(index))
                })
        })
    })
}

/// The other processes in the target's process group, as `pid (name)`.
fn group_members(target: &Proc) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<(u32, String)> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != target.pid)
        .filter_map(|pid| {
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let p = parse_stat(pid, &text)?;
            (p.pgrp == target.pgrp).then(|| {
                let name = text
                    .split_once(" (")
                    .and_then(|(_, r)| r.rsplit_once(") "))
                    .map_or("?", |(n, _)| n)
                    .to_owned();
                (pid, name)
            })
        })
        .collect();
    out.sort();
    out.into_iter()
        .map(|(pid, name)| format!("{pid} ({name})"))
        .collect()
}

/// `kernel.yama.ptrace_scope`, where the Yama module is present.
fn yama_scope() -> Option<u8> {
    std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether this process has CAP_SYS_PTRACE (bit 19 of its effective capabilities).
fn can_trace_any() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let hex = s.lines().find_map(|l| l.strip_prefix("CapEff:"))?.trim();
            u64::from_str_radix(hex, 16).ok()
        })
        .is_some_and(|caps| caps & (1 << 19) != 0)
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_group_and_terminal_and_zombies_nothing() {
        let line = "2135 (bash) S 2131 2135 2135 34820 2135 4194560 0 0";
        assert_eq!(
            parse_stat(2135, line),
            Some(Proc {
                pid: 2135,
                pgrp: 2135,
                tty_nr: 34820
            })
        );
        // A name with spaces and parentheses does not shift the fields.
        let odd = "7 (a) b (c)) S 1 9 9 0 -1 0";
        assert_eq!(parse_stat(7, odd).map(|p| (p.pgrp, p.tty_nr)), Some((9, 0)));
        assert_eq!(parse_stat(8, "8 (x) Z 1 8 8 0 -1 0"), None);
        assert_eq!(parse_stat(8, "garbage"), None);
    }

    #[test]
    fn kernel_and_user_device_numbers_agree_for_ptys_past_255() {
        // /dev/pts/4: major 136, minor 4; /dev/pts/300: minor 300.
        assert_eq!(kernel_dev(34820), (136, 4));
        assert_eq!(user_dev(34820), (136, 4));
        let kernel_300 = (300 & 0xff) | (136 << 8) | ((300 & !0xff) << 12);
        let user_300 = nix::sys::stat::makedev(136, 300);
        assert_eq!(kernel_dev(kernel_300), (136, 300));
        assert_eq!(user_dev(user_300), (136, 300));
    }

    #[test]
    fn a_missing_process_is_named() {
        let err = read_proc(u32::MAX - 1).expect_err("no such process");
        assert!(err.to_string().contains("no process"), "{err}");
    }
}
