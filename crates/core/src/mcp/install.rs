//! `paddock mcp install|uninstall claude|codex`: Paddock's MCP server in the owner's own
//! agent configuration, for agents started outside Paddock. Claude Code: the user-scope
//! `mcpServers.paddock` of `~/.claude.json` (`$CLAUDE_CONFIG_DIR/.claude.json` when set), as
//! `claude mcp add --scope user` writes it. Codex: `[mcp_servers.paddock]` of
//! `~/.codex/config.toml` (`$CODEX_HOME`), edited with `toml_edit` so the owner's comments
//! and layout stay. Both idempotent; uninstall removes exactly the `paddock` entry and
//! nothing else; each says what it changed and where.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

use super::wiring::SERVER_NAME;

/// The agents whose configuration Paddock can add itself to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Claude,
    Codex,
}

/// What an install or uninstall did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added,
    /// There was a `paddock` entry with another command or arguments; it now runs this one.
    Updated,
    Unchanged,
    Removed,
    /// Uninstall found no `paddock` entry.
    Absent,
}

/// The outcome, with the file it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub target: Target,
    pub path: PathBuf,
    pub change: Change,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (agent, entry) = match self.target {
            Target::Claude => ("Claude Code", "mcpServers.paddock"),
            Target::Codex => ("Codex", "[mcp_servers.paddock]"),
        };
        let path = self.path.display();
        match self.change {
            Change::Added => write!(f, "added Paddock's MCP server ({entry}) to {path}; {agent} sessions started from now on have its tools"),
            Change::Updated => write!(f, "updated {entry} in {path} to run this paddock"),
            Change::Unchanged => write!(f, "{agent} already has Paddock's MCP server in {path}; nothing changed"),
            Change::Removed => write!(f, "removed {entry} from {path}; the rest of the file is as it was"),
            Change::Absent => write!(f, "{path} has no {entry}; nothing changed"),
        }
    }
}

/// Why the owner's configuration was not changed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot find the configuration: neither {0} nor HOME is set")]
    NoHome(&'static str),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid {format} ({message}); fix it by hand, then try again (nothing was changed)")]
    Parse {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error("`{key}` in {path} is not a {expected}; fix it by hand, then try again (nothing was changed)")]
    Shape {
        path: PathBuf,
        key: &'static str,
        expected: &'static str,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where `target` keeps the owner's configuration, from the variables `var` gives.
pub fn config_path(
    target: Target,
    var: impl Fn(&str) -> Option<String>,
) -> Result<PathBuf, InstallError> {
    let var = |k: &str| var(k).filter(|v| !v.is_empty());
    match target {
        Target::Claude => var("CLAUDE_CONFIG_DIR")
            .map(|d| Path::new(&d).join(".claude.json"))
            .or_else(|| var("HOME").map(|h| Path::new(&h).join(".claude.json")))
            .ok_or(InstallError::NoHome("CLAUDE_CONFIG_DIR")),
        Target::Codex => var("CODEX_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| Path::new(&h).join(".codex")))
            .map(|d| d.join("config.toml"))
            .ok_or(InstallError::NoHome("CODEX_HOME")),
    }
}

/// Adds Paddock's server (running `exe mcp`) to `target`'s configuration at `path`.
/// `runtime` is the supervisor's runtime directory, pinned for Codex, which gives its servers
/// a filtered environment.
pub fn install(
    target: Target,
    path: &Path,
    exe: &Path,
    runtime: &Path,
) -> Result<Report, InstallError> {
    let change = match target {
        Target::Claude => edit_claude(path, |servers| {
            let ours = json!({"type": "stdio", "command": exe.display().to_string(), "args": ["mcp"], "env": {}});
            let change = match servers.get(SERVER_NAME) {
                None => Change::Added,
                Some(v) if *v == ours => Change::Unchanged,
                Some(_) => Change::Updated,
            };
            servers.insert(SERVER_NAME.to_owned(), ours);
            change
        })?,
        Target::Codex => edit_codex(path, |servers| {
            let mut ours = toml_edit::Table::new();
            ours["command"] = toml_edit::value(exe.display().to_string());
            ours["args"] = toml_edit::value(toml_edit::Array::from_iter(["mcp"]));
            let mut env = toml_edit::InlineTable::new();
            env.insert("PADDOCK_RUNTIME_DIR", runtime.display().to_string().into());
            ours["env"] = toml_edit::value(env);
            let same = |t: &toml_edit::Table| {
                t.to_string().replace(' ', "") == ours.to_string().replace(' ', "")
            };
            let change = match servers.get(SERVER_NAME) {
                None => Change::Added,
                Some(toml_edit::Item::Table(t)) if same(t) => Change::Unchanged,
                Some(_) => Change::Updated,
            };
            if change != Change::Unchanged {
                servers.insert(SERVER_NAME, toml_edit::Item::Table(ours));
            }
            change
        })?,
    };
    Ok(Report {
        target,
        path: path.to_owned(),
        change,
    })
}

/// Removes Paddock's server from `target`'s configuration at `path`, and nothing else.
pub fn uninstall(target: Target, path: &Path) -> Result<Report, InstallError> {
    if !path.exists() {
        return Ok(Report {
            target,
            path: path.to_owned(),
            change: Change::Absent,
        });
    }
    let removed = |found: bool| {
        if found {
            Change::Removed
        } else {
            Change::Absent
        }
    };
    let change = match target {
        Target::Claude => edit_claude(path, |servers| {
            removed(servers.remove(SERVER_NAME).is_some())
        })?,
        Target::Codex => edit_codex(path, |servers| {
            removed(servers.remove(SERVER_NAME).is_some())
        })?,
    };
    Ok(Report {
        target,
        path: path.to_owned(),
        change,
    })
}

/// The file's text, or `None` when it does not exist yet.
fn read(path: &Path) -> Result<Option<String>, InstallError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InstallError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Replaces `path` whole (a temporary file renamed over it, with the old file's mode, 0600
/// for a new one), so an agent reading it never sees half a file.
fn write(path: &Path, text: &str) -> Result<(), InstallError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err = |source| InstallError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".paddock-tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Applies `edit` to the `mcpServers` object of Claude Code's `.claude.json` (created when
/// missing) and writes the file back when something changed.
fn edit_claude(
    path: &Path,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>) -> Change,
) -> Result<Change, InstallError> {
    let text = read(path)?;
    let mut doc: Value = match &text {
        Some(t) if !t.trim().is_empty() => {
            serde_json::from_str(t).map_err(|e| InstallError::Parse {
                path: path.to_owned(),
                format: "JSON",
                message: e.to_string(),
            })?
        }
        _ => json!({}),
    };
    let shape = |key, expected| InstallError::Shape {
        path: path.to_owned(),
        key,
        expected,
    };
    let obj = doc
        .as_object_mut()
        .ok_or(shape("(top level)", "JSON object"))?;
    let servers = obj
        .entry("mcpServers")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or(shape("mcpServers", "JSON object"))?;
    let change = edit(servers);
    if matches!(change, Change::Added | Change::Updated | Change::Removed) {
        let mut out = serde_json::to_string_pretty(&doc).map_err(|e| InstallError::Parse {
            path: path.to_owned(),
            format: "JSON",
            message: e.to_string(),
        })?;
        out.push('\n');
        write(path, &out)?;
    }
    Ok(change)
}

/// Applies `edit` to the `[mcp_servers]` table of Codex's config.toml (created when
/// missing) and writes the file back when something changed.
fn edit_codex(
    path: &Path,
    edit: impl FnOnce(&mut toml_edit::Table) -> Change,
) -> Result<Change, InstallError> {
    let text = read(path)?.unwrap_or_default();
    let mut doc: toml_edit::Document =
        text.parse()
            .map_err(|e: toml_edit::TomlError| InstallError::Parse {
                path: path.to_owned(),
                format: "TOML",
                message: e.to_string(),
            })?;
    let created = !doc.contains_key("mcp_servers");
    if created {
        let mut t = toml_edit::Table::new();
        t.set_implicit(true);
        doc.insert("mcp_servers", toml_edit::Item::Table(t));
    }
    let servers = doc["mcp_servers"]
        .as_table_mut()
        .ok_or_else(|| InstallError::Shape {
            path: path.to_owned(),
            key: "mcp_servers",
            expected: "table",
        })?;
    let change = edit(servers);
    let empty_implicit = servers.is_empty() && servers.is_implicit();
    if empty_implicit {
        doc.remove("mcp_servers");
    }
    if matches!(change, Change::Added | Change::Updated | Change::Removed) {
        write(path, &doc.to_string())?;
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_install_keeps_the_owners_servers_and_uninstall_undoes_exactly_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".claude.json");
        let before = "{\n  \"numStartups\": 3,\n  \"mcpServers\": {\n    \"mine\": {\n      \"type\": \"stdio\",\n      \"command\": \"mine\",\n      \"args\": [],\n      \"env\": {}\n    }\n  }\n}\n";
        std::fs::write(&path, before).expect("write");
        let exe = Path::new("/opt/paddock");
        let r = install(Target::Claude, &path, exe, Path::new("/run")).expect("install");
        assert_eq!(r.change, Change::Added);
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(v["mcpServers"]["mine"]["command"], "mine");
        assert_eq!(v["mcpServers"]["paddock"]["command"], "/opt/paddock");
        assert_eq!(v["numStartups"], 3);
        let again = install(Target::Claude, &path, exe, Path::new("/run")).expect("again");
        assert_eq!(again.change, Change::Unchanged);
        let moved = install(
            Target::Claude,
            &path,
            Path::new("/new/paddock"),
            Path::new("/run"),
        );
        assert_eq!(moved.expect("moved").change, Change::Updated);
        assert_eq!(
            uninstall(Target::Claude, &path).expect("rm").change,
            Change::Removed
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
        assert_eq!(
            uninstall(Target::Claude, &path).expect("rm").change,
            Change::Absent
        );
    }

    #[test]
    fn codex_install_keeps_comments_and_uninstall_restores_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let before = "# my settings\nmodel = \"o3\" # the model\n\n[mcp_servers.mine]\ncommand = \"mine\" # mine\n";
        std::fs::write(&path, before).expect("write");
        let exe = Path::new("/opt/paddock");
        let r = install(Target::Codex, &path, exe, Path::new("/run/p")).expect("install");
        assert_eq!(r.change, Change::Added);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with(before), "{text}");
        let t: toml::Table = text.parse().expect("toml");
        assert_eq!(
            t["mcp_servers"]["paddock"]["command"].as_str(),
            Some("/opt/paddock")
        );
        assert_eq!(
            t["mcp_servers"]["paddock"]["env"]["PADDOCK_RUNTIME_DIR"].as_str(),
            Some("/run/p")
        );
        let again = install(Target::Codex, &path, exe, Path::new("/run/p")).expect("again");
        assert_eq!(again.change, Change::Unchanged);
        assert_eq!(
            uninstall(Target::Codex, &path).expect("rm").change,
            Change::Removed
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
        assert_eq!(
            uninstall(Target::Codex, &path).expect("rm").change,
            Change::Absent
        );
        let fresh = dir.path().join("new/config.toml");
        install(Target::Codex, &fresh, exe, Path::new("/run/p")).expect("fresh");
        uninstall(Target::Codex, &fresh).expect("rm fresh");
        assert_eq!(std::fs::read_to_string(&fresh).expect("read"), "");
    }

    #[test]
    fn a_broken_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".claude.json");
        std::fs::write(&path, "{oops").expect("write");
        let e =
            install(Target::Claude, &path, Path::new("/p"), Path::new("/r")).expect_err("broken");
        assert!(e.to_string().contains("nothing was changed"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "{oops");
    }
}
