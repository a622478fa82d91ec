//! Starting Codex through its app-server: a small launcher script (written once into the
//! runtime directory, named `codex` so the session is known as a Codex one) starts
//! `codex app-server --listen unix://<socket>` beside the terminal UI `codex --remote
//! unix://<socket>`, in the session's holder, and stops the server when the UI ends. When
//! the server does not come up (an older Codex without `app-server`, a failure), the script
//! says so on the terminal and runs plain Codex: today's notify + screen path.

use paddock_host::dirs::RuntimeDir;
use paddock_proto::SessionId;
use std::path::{Path, PathBuf};

/// The launcher. Arguments: the `codex` executable, the socket, how many settings follow
/// for the server (`k`), how many arguments only plain Codex gets when the server does not
/// start (`m`), those `k` and `m` arguments, then Codex's own arguments (settings included:
/// the UI reads them too). The settings (`-c`, `--enable`, `--disable`) go to the server
/// because it runs the turns: the approval policy, the sandbox, MCP servers are its own.
/// The fallback's own arguments are Paddock's `notify` hook: through the server the protocol
/// reports every turn, and `notify` would also report the title turn's end mid-turn.
/// `eval` only ever sees `"${N}"` references built here, never an argument's text.
const SCRIPT: &str = r#"#!/bin/sh
# Written by Paddock (docs/design/agents.md, "Codex through its app-server"): runs Codex's
# app-server on a socket Paddock follows, and Codex's terminal UI attached to it.
codex=$1; sock=$2; k=$3; m=$4; shift 4
refs() { r=""; j=$1; while [ "$j" -le "$2" ]; do r="$r \"\${$j}\""; j=$((j+1)); done; }
refs 1 "$k"; server=$r
refs $((k+1)) $((k+m)); fallback=$r
refs $((k+m+1)) $#; rest=$r
(eval "set -- $server"; exec "$codex" app-server --listen "unix://$sock" "$@") &
pid=$!
i=0
while [ ! -S "$sock" ]; do
  if ! kill -0 "$pid" 2>/dev/null || [ "$i" -ge 200 ]; then
    kill "$pid" 2>/dev/null
    echo "paddock: Codex's app-server did not start on $sock (see above); running Codex without it, its state read from notify and the screen." >&2
    eval "exec \"\$codex\" $fallback $rest"
  fi
  sleep 0.05; i=$((i+1))
done
eval "\"\$codex\" --remote \"unix://\$sock\" $rest"
code=$?
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -f "$sock"
exit "$code"
"#;

/// Where the launcher lives: `<runtime>/codex-app-server/codex`.
pub fn launcher_path(dir: &RuntimeDir) -> PathBuf {
    dir.path().join("codex-app-server").join("codex")
}

/// Writes the launcher (0700) unless it is there already as it should be.
pub fn install(dir: &RuntimeDir) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = launcher_path(dir);
    if std::fs::read_to_string(&path).is_ok_and(|s| s == SCRIPT) {
        return Ok(path);
    }
    let folder = path.parent().unwrap_or(dir.path());
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)?;
    let part = folder.join(format!("codex.{}.part", std::process::id()));
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o700)
            .open(&part)?;
        f.write_all(SCRIPT.as_bytes())?;
    }
    std::fs::rename(&part, &path)?;
    Ok(path)
}

/// Codex's settings among its arguments (`-c key=value`, `--config`, `--enable`,
/// `--disable`, each with its value), up to a `--`.
pub fn settings_of(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            break;
        }
        if matches!(a, "-c" | "--config" | "--enable" | "--disable") {
            if let Some(v) = args.get(i + 1) {
                out.push(a.to_owned());
                out.push(v.clone());
            }
            i += 2;
            continue;
        }
        if (a.starts_with("-c") && a.len() > 2 && !a.starts_with("--"))
            || a.starts_with("--config=")
            || a.starts_with("--enable=")
            || a.starts_with("--disable=")
        {
            out.push(a.to_owned());
        }
        i += 1;
    }
    out
}

/// The holder's command and arguments that run `codex` (as given) with `args` through the
/// launcher at `launcher`, its app-server on the session's socket; `fallback` goes in front
/// of `args` only when Codex runs without the server.
pub fn command(
    launcher: &Path,
    codex: &str,
    dir: &RuntimeDir,
    id: &SessionId,
    fallback: Vec<String>,
    args: Vec<String>,
) -> (String, Vec<String>) {
    let settings = settings_of(&args);
    let mut out = vec![
        codex.to_owned(),
        dir.codex_socket_path(id).display().to_string(),
        settings.len().to_string(),
        fallback.len().to_string(),
    ];
    out.extend(settings);
    out.extend(fallback);
    out.extend(args);
    (launcher.display().to_string(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn settings_go_to_the_server_and_a_prompt_after_the_separator_does_not() {
        let args = strings(&[
            "-c",
            "approval_policy=on-request",
            "--model",
            "gpt-5",
            "-csandbox_mode=read-only",
            "--enable",
            "web_search",
            "--config=notify=[\"x\"]",
            "--",
            "-c",
            "not=a-setting",
        ]);
        assert_eq!(
            settings_of(&args),
            strings(&[
                "-c",
                "approval_policy=on-request",
                "-csandbox_mode=read-only",
                "--enable",
                "web_search",
                "--config=notify=[\"x\"]",
            ])
        );
        // A trailing `-c` with no value is left to Codex to refuse.
        assert!(settings_of(&strings(&["-c"])).is_empty());
    }

    #[test]
    fn the_launcher_is_named_codex_so_the_session_is_known_as_codex() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = RuntimeDir::open(tmp.path().join("run")).expect("runtime dir");
        let launcher = install(&dir).expect("written");
        let again = install(&dir).expect("kept");
        assert_eq!(launcher, again);
        let id = SessionId::parse("s1").expect("id");
        let (program, args) = command(
            &launcher,
            "codex",
            &dir,
            &id,
            strings(&["-c", "notify=[]"]),
            strings(&["-c", "a=b", "hi"]),
        );
        assert_eq!(
            paddock_monitor::classify(&[program], None),
            Some(paddock_monitor::AgentKind::Codex)
        );
        assert_eq!(args[0], "codex");
        assert!(args[1].ends_with("s1.codex-app-server"), "{args:?}");
        assert_eq!(
            &args[2..],
            ["2", "2", "-c", "a=b", "-c", "notify=[]", "-c", "a=b", "hi"]
        );
    }
}
