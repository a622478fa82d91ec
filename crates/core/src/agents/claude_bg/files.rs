//! Reading the files of Claude Code's background agents, tolerantly: `jobs/<id>/state.json`
//! (one per agent) and `daemon/roster.json` (the daemon's live workers), under Claude Code's
//! folder (`~/.claude` or `$CLAUDE_CONFIG_DIR`). They are undocumented and change between
//! versions: unknown fields are ignored, missing fields are `None`, a missing file or folder
//! means "none", and a file caught half-written is a typed error the caller can skip
//! (keeping what it read last). What was seen is in `docs/agents-offline.md`.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The largest state or roster file read (they are a few KiB).
const MAX_FILE: u64 = 1 << 20;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is larger than 1 MiB; it is not a background agent's file Paddock knows")]
    TooLarge { path: PathBuf },
    #[error("{path} is not a JSON object yet ({reason}); it is read again when it changes")]
    NotJson { path: PathBuf, reason: String },
}

/// One background agent, as its `state.json` says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Job {
    /// The short id `claude --bg` printed (the folder's name).
    pub id: String,
    /// `state`: `starting`, `working`, `blocked`, `done`, `failed`, `stopped`, …
    pub state: Option<String>,
    /// `tempo`: `active` during a turn, `idle` between turns.
    pub tempo: Option<String>,
    /// `detail`: what it does, or the last answer's text.
    pub detail: Option<String>,
    /// `waitingFor`, e.g. "permission prompt".
    pub waiting_for: Option<String>,
    /// `intent`: the prompt it was started with.
    pub intent: Option<String>,
    pub name: Option<String>,
    /// `linkScanPath`: its transcript.
    pub transcript: Option<PathBuf>,
    pub session_id: Option<String>,
    pub cwd: Option<String>,
    /// `createdAt`, RFC 3339.
    pub created_at: Option<String>,
}

/// A live worker in the daemon's roster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Worker {
    /// The PTY host's pid: the root of the agent's process tree.
    pub pid: u32,
    /// The agent's own process (`replPid`).
    pub repl_pid: Option<u32>,
    pub cwd: Option<String>,
    /// `startedAt`, milliseconds since the epoch.
    pub started_at_ms: Option<u64>,
}

/// The daemon's roster: its live workers by short id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Roster {
    pub supervisor_pid: Option<u32>,
    pub workers: HashMap<String, Worker>,
}

/// Whether `id` looks like a background agent's short id (what `claude --bg` prints): a few
/// lower-case letters, digits or dashes. Anything else in `jobs/` is not an agent.
pub fn valid_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn read_object(path: &Path) -> Result<Option<serde_json::Map<String, Value>>, FileError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(FileError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    if meta.len() > MAX_FILE {
        return Err(FileError::TooLarge {
            path: path.to_owned(),
        });
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(FileError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(other) => Err(FileError::NotJson {
            path: path.to_owned(),
            reason: format!("a JSON {} instead of an object", kind(&other)),
        }),
        Err(e) => Err(FileError::NotJson {
            path: path.to_owned(),
            reason: e.to_string(),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn text(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn number(map: &serde_json::Map<String, Value>, key: &str) -> Option<u64> {
    match map.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads `jobs/<id>/state.json`. `Ok(None)` when it does not exist (yet, or any more).
pub fn read_job(jobs_dir: &Path, id: &str) -> Result<Option<Job>, FileError> {
    let path = jobs_dir.join(id).join("state.json");
    let Some(map) = read_object(&path)? else {
        return Ok(None);
    };
    Ok(Some(Job {
        id: id.to_owned(),
        state: text(&map, "state").map(|s| s.to_ascii_lowercase()),
        tempo: text(&map, "tempo").map(|s| s.to_ascii_lowercase()),
        detail: text(&map, "detail"),
        waiting_for: text(&map, "waitingFor"),
        intent: text(&map, "intent"),
        name: text(&map, "name"),
        transcript: text(&map, "linkScanPath").map(PathBuf::from),
        session_id: text(&map, "sessionId"),
        cwd: text(&map, "cwd"),
        created_at: text(&map, "createdAt"),
    }))
}

/// The ids of the folders under `jobs/` that look like agents. An absent folder has none.
pub fn job_ids(jobs_dir: &Path) -> Result<Vec<String>, FileError> {
    let entries = match std::fs::read_dir(jobs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(FileError::Io {
                path: jobs_dir.to_owned(),
                source,
            })
        }
    };
    let mut ids: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|id| valid_id(id))
        .collect();
    ids.sort();
    Ok(ids)
}

/// Reads `daemon/roster.json`. An absent file is an empty roster (no daemon yet).
pub fn read_roster(path: &Path) -> Result<Roster, FileError> {
    let Some(map) = read_object(path)? else {
        return Ok(Roster::default());
    };
    let workers = map
        .get("workers")
        .and_then(Value::as_object)
        .map(|workers| {
            workers
                .iter()
                .filter(|(id, _)| valid_id(id))
                .filter_map(|(id, w)| {
                    let w = w.as_object()?;
                    let pid = number(w, "pid").and_then(|p| u32::try_from(p).ok())?;
                    (pid > 0).then(|| {
                        (
                            id.clone(),
                            Worker {
                                pid,
                                repl_pid: number(w, "replPid").and_then(|p| u32::try_from(p).ok()),
                                cwd: text(w, "cwd"),
                                started_at_ms: number(w, "startedAt"),
                            },
                        )
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Roster {
        supervisor_pid: number(&map, "supervisorPid").and_then(|p| u32::try_from(p).ok()),
        workers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs_with(id: &str, text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join(id)).expect("job dir");
        std::fs::write(dir.path().join(id).join("state.json"), text).expect("write");
        dir
    }

    #[test]
    fn the_state_file_of_the_pinned_cli_reads_whole() {
        let dir = jobs_with(
            "e21643de",
            include_str!("../../../../agents/tests/data/claude-bg-state-2.1.328.json"),
        );
        let job = read_job(dir.path(), "e21643de")
            .expect("reads")
            .expect("exists");
        assert_eq!(job.state.as_deref(), Some("working"));
        assert_eq!(job.tempo.as_deref(), Some("idle"));
        assert_eq!(job.intent.as_deref(), Some("say hello"));
        assert_eq!(job.name.as_deref(), Some("ok."));
        assert_eq!(job.waiting_for, None);
        assert!(job
            .transcript
            .as_deref()
            .is_some_and(|p| p.ends_with("e21643de-41a2-4d1f-b9ba-412b3b2f63e7.jsonl")));
        assert_eq!(job.created_at.as_deref(), Some("2026-12-07T01:28:17.499Z"));
    }

    #[test]
    fn unknown_fields_odd_types_and_missing_fields_are_tolerated() {
        let dir = jobs_with(
            "a1",
            r#"{"state":"BLOCKED","waitingFor":"permission prompt","tempo":7,"future":{"x":[1]},"name":""}"#,
        );
        let job = read_job(dir.path(), "a1").expect("reads").expect("exists");
        assert_eq!(job.state.as_deref(), Some("blocked"));
        assert_eq!(job.waiting_for.as_deref(), Some("permission prompt"));
        assert_eq!(
            job.tempo, None,
            "a number where text was expected is left out"
        );
        assert_eq!(job.name, None, "an empty name is no name");
        assert_eq!(job.intent, None);
    }

    #[test]
    fn a_half_written_state_file_is_a_typed_error_that_names_it() {
        let dir = jobs_with("a2", r#"{"state":"work"#);
        let err = read_job(dir.path(), "a2").expect_err("half a file");
        assert!(matches!(err, FileError::NotJson { .. }));
        assert!(err.to_string().contains("state.json"), "{err}");
        let dir = jobs_with("a3", "[1,2]");
        assert!(matches!(
            read_job(dir.path(), "a3"),
            Err(FileError::NotJson { .. })
        ));
    }

    #[test]
    fn missing_files_and_folders_mean_none() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(read_job(dir.path(), "gone").expect("no error"), None);
        assert!(job_ids(&dir.path().join("absent"))
            .expect("no error")
            .is_empty());
        assert_eq!(
            read_roster(&dir.path().join("roster.json")).expect("no error"),
            Roster::default()
        );
    }

    #[test]
    fn only_folders_named_like_agents_are_jobs() {
        let dir = tempfile::tempdir().expect("temp dir");
        for d in ["e21643de", "Not-An-Id", "x y"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("dir");
        }
        std::fs::write(dir.path().join("pins.json"), "[]").expect("file");
        assert_eq!(job_ids(dir.path()).expect("lists"), vec!["e21643de"]);
    }

    #[test]
    fn the_roster_of_the_pinned_cli_names_each_worker_and_skips_odd_ones() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("roster.json");
        std::fs::write(
            &path,
            include_str!("../../../../agents/tests/data/claude-bg-roster-2.1.328.json"),
        )
        .expect("write");
        let roster = read_roster(&path).expect("reads");
        assert_eq!(roster.supervisor_pid, Some(32484));
        let w = &roster.workers["e21643de"];
        assert_eq!((w.pid, w.repl_pid), (32552, Some(32588)));
        assert_eq!(w.started_at_ms, Some(1796606899213));
        std::fs::write(
            &path,
            r#"{"workers":{"ok1":{"pid":"12"},"nopid":{},"neg":{"pid":-3},"BAD ID":{"pid":5},"arr":[1]}}"#,
        )
        .expect("write");
        let roster = read_roster(&path).expect("reads");
        assert_eq!(roster.workers.len(), 1, "{roster:?}");
        assert_eq!(roster.workers["ok1"].pid, 12);
    }
}
