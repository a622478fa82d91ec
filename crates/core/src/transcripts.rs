//! Live transcripts: each session's transcript (Claude Code) or rollout (Codex), followed as
//! it grows and read into a [`SessionInsight`] (task, actions, files, progress, thinking,
//! tokens, cost). Only what was appended is read; the position is kept in the store so a
//! restarted supervisor resumes where it was. A new line is reflected within the watcher's
//! interval plus the parse.

use crate::events::{Bus, Event};
use crate::registry::Registry;
use paddock_agents::{
    AgentKind, ConversationReader, LiveTranscript, Prices, SessionInsight, TranscriptWatcher,
};
use paddock_proto::conversation::{ConversationPage, Turn};
use paddock_proto::insight::ActionStatus;
use paddock_proto::SessionId;
use paddock_store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often watched transcripts are checked for growth (one `stat` each).
const WATCH_EVERY: Duration = Duration::from_millis(100);

struct Tracked {
    path: PathBuf,
    kind: AgentKind,
    /// The insight's reader; `None` for an agent whose conversation is read but not its
    /// insight (Gemini CLI).
    live: Option<LiveTranscript>,
    insight: Option<SessionInsight>,
    /// The conversation, read once a client first asks for it, then kept up to date with
    /// each change of the file (sessions nobody reads cost nothing).
    conversation: Option<ConversationReader>,
}

/// Each session's transcript has a lock of its own: reading a large one (the first read of a
/// long session) holds up no other session.
type Shared = Arc<Mutex<Tracked>>;

fn lock_one(t: &Shared) -> MutexGuard<'_, Tracked> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<SessionId, Shared>,
    by_path: HashMap<PathBuf, SessionId>,
}

/// The followed transcripts. Cheap to clone.
#[derive(Clone)]
pub struct Transcripts {
    inner: Arc<Mutex<Inner>>,
    watcher: Option<Arc<TranscriptWatcher>>,
    store: Option<Store>,
    prices: Arc<Prices>,
}

impl Transcripts {
    /// Starts the watcher; changes are read on a task of the current runtime.
    pub fn start(store: Option<Store>, prices: Prices, registry: Registry, bus: Bus) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
        let watcher = match TranscriptWatcher::start(WATCH_EVERY, move |p: &Path| {
            let _ = tx.send(p.to_owned());
        }) {
            Ok(w) => Some(Arc::new(w)),
            Err(e) => {
                tracing::error!(error = %e, "cannot watch transcripts; sessions will show no task, actions or cost");
                None
            }
        };
        let me = Self {
            inner: Arc::default(),
            watcher,
            store,
            prices: Arc::new(prices),
        };
        let reader = me.clone();
        tokio::spawn(async move {
            while let Some(path) = rx.recv().await {
                let r = reader.clone();
                let read = tokio::task::spawn_blocking(move || {
                    let conversation = r.read_conversation(&path);
                    (r.read(&path), conversation)
                })
                .await;
                let Ok((read, conversation)) = read else {
                    continue;
                };
                if let Some(update) = conversation {
                    bus.publish(update);
                }
                if let Some((id, insight)) = read {
                    let tool = running_tool(&insight);
                    registry.observe(&id, |m, _| m.transcript_tool(tool));
                    bus.publish(Event::InsightUpdate {
                        id,
                        insight: Box::new(insight),
                    });
                }
            }
        });
        me
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows `path` as `session`'s transcript (again the same path: nothing to do).
    pub fn follow(&self, session: &SessionId, kind: &AgentKind, path: &Path) {
        let mut inner = self.lock();
        if inner
            .sessions
            .get(session)
            .is_some_and(|t| lock_one(t).path == path)
        {
            return;
        }
        let live = match LiveTranscript::open(kind, path, self.store.as_ref()) {
            Ok(l) => Some(l),
            // --- begin: Gemini CLI (issue 15, item 4) ---
            Err(_) if ConversationReader::open(kind, path).is_ok() => None,
            // --- end: Gemini CLI ---
            Err(e) => {
                tracing::debug!(%session, error = %e, "not following a transcript");
                return;
            }
        };
        if let Some(old) = inner.sessions.insert(
            session.clone(),
            Arc::new(Mutex::new(Tracked {
                path: path.to_owned(),
                kind: kind.clone(),
                live,
                insight: None,
                conversation: None,
            })),
        ) {
            let old_path = lock_one(&old).path.clone();
            inner.by_path.remove(&old_path);
            if let Some(w) = &self.watcher {
                w.unwatch(&old_path);
            }
        }
        inner.by_path.insert(path.to_owned(), session.clone());
        tracing::info!(%session, path = %path.display(), "following the agent's transcript");
        if let Some(w) = &self.watcher {
            w.watch(path);
        }
    }

    /// Stops following a session's transcript.
    pub fn forget(&self, session: &SessionId) {
        let mut inner = self.lock();
        if let Some(t) = inner.sessions.remove(session) {
            let path = lock_one(&t).path.clone();
            inner.by_path.remove(&path);
            if let Some(w) = &self.watcher {
                w.unwatch(&path);
            }
        }
    }

    /// The transcript file followed for `session`, if any.
    pub fn path(&self, session: &SessionId) -> Option<PathBuf> {
        let t = self.lock().sessions.get(session).cloned()?;
        let path = lock_one(&t).path.clone();
        Some(path)
    }

    /// What the session's transcript says so far.
    pub fn insight(&self, session: &SessionId) -> Option<SessionInsight> {
        let t = self.lock().sessions.get(session).cloned()?;
        let insight = lock_one(&t).insight.clone();
        insight
    }

    /// Reads what was appended to `path` into the session's conversation, when a client
    /// reads it: the update for the bus when turns changed.
    fn read_conversation(&self, path: &Path) -> Option<Event> {
        let (id, shared) = {
            let inner = self.lock();
            let id = inner.by_path.get(path)?.clone();
            let shared = inner.sessions.get(&id)?.clone();
            (id, shared)
        };
        let mut tracked = lock_one(&shared);
        let reader = tracked.conversation.as_mut()?;
        let polled = match reader.poll() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read a conversation");
                return None;
            }
        };
        if polled.changed.is_empty() && !polled.reset {
            return None;
        }
        Some(Event::ConversationUpdate {
            turns: reader.turns(&self.prices, &polled.changed),
            total: reader.total(),
            reset: polled.reset,
            id,
        })
    }

    /// Runs `f` on the session's conversation, read up to now (opened on first use).
    fn with_conversation<T>(
        &self,
        session: &SessionId,
        f: impl FnOnce(&mut ConversationReader, &Prices) -> Result<T, ConversationError>,
    ) -> Result<T, ConversationError> {
        let shared = self
            .lock()
            .sessions
            .get(session)
            .cloned()
            .ok_or_else(|| ConversationError::NoTranscript(session.clone()))?;
        let mut tracked = lock_one(&shared);
        let Tracked {
            path,
            kind,
            conversation,
            ..
        } = &mut *tracked;
        let reader = match conversation {
            Some(r) => r,
            None => conversation.insert(
                ConversationReader::open(kind, path).map_err(ConversationError::Unsupported)?,
            ),
        };
        reader.poll().map_err(ConversationError::Read)?;
        f(reader, &self.prices)
    }

    /// A page of the session's conversation: the newest `limit` turns before `before`.
    /// Blocking (reads the file): call it from a blocking thread.
    pub fn conversation_page(
        &self,
        session: &SessionId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<ConversationPage, ConversationError> {
        self.with_conversation(session, |r, prices| {
            r.page(prices, before, limit)
                .map_err(ConversationError::Read)
        })
    }

    /// One turn of the session's conversation, whole. Blocking, like [`Self::conversation_page`].
    pub fn conversation_turn(
        &self,
        session: &SessionId,
        index: u64,
    ) -> Result<Turn, ConversationError> {
        self.with_conversation(session, |r, prices| {
            r.turn(prices, index)
                .map_err(ConversationError::Read)?
                .ok_or(ConversationError::NoTurn { index })
        })
    }

    /// Reads what was appended to `path`; the session and its new insight when it changed.
    fn read(&self, path: &Path) -> Option<(SessionId, SessionInsight)> {
        let (id, shared) = {
            let inner = self.lock();
            let id = inner.by_path.get(path)?.clone();
            let shared = inner.sessions.get(&id)?.clone();
            (id, shared)
        };
        let mut tracked = lock_one(&shared);
        let tracked = &mut *tracked;
        let live = tracked.live.as_mut()?;
        match live.poll() {
            Ok(outcome) if outcome.lines == 0 && tracked.insight.is_some() => return None,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read a transcript");
                return None;
            }
        }
        let insight = live.insight(&self.prices);
        tracked.insight = Some(insight.clone());
        Some((id, insight))
    }
}

/// Why a session's conversation cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("session `{0}` has no transcript Paddock follows: its agent has not said where it writes one (or it is not an agent)")]
    NoTranscript(SessionId),
    /// Paddock has no conversation reader for this agent.
    #[error("{0}")]
    Unsupported(paddock_agents::AgentError),
    #[error("{0}")]
    Read(paddock_agents::AgentError),
    #[error("no turn starts at {index} in this conversation (the file was rewritten, or the cursor is not a turn's): read the newest page again")]
    NoTurn { index: u64 },
}

/// The folders the agents write their transcripts in: as this supervisor's environment says
/// (`$CLAUDE_CONFIG_DIR/projects` or `~/.claude/projects`, `$CODEX_HOME/sessions` or
/// `~/.codex/sessions`, `~/.gemini/tmp`), and as the hook's says (`agent_home`: the agent's own folder).
pub fn agent_roots(kind: &AgentKind, agent_home: Option<&str>) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(c) = paddock_agents::claude::ClaudePaths::from_env() {
        roots.push(c.projects());
    }
    if let Some(c) = paddock_agents::codex::CodexPaths::from_env() {
        roots.push(c.sessions());
    }
    // --- begin: Gemini CLI (issue 15, item 4) ---
    if let Some(home) = paddock_agents::gemini::gemini_home() {
        roots.push(home.join("tmp"));
    }
    // --- end: Gemini CLI ---
    if let Some(home) = agent_home.filter(|h| !h.is_empty()) {
        roots.push(match kind {
            AgentKind::Codex => Path::new(home).join("sessions"),
            AgentKind::Gemini => Path::new(home).join("tmp"),
            _ => Path::new(home).join("projects"),
        });
    }
    roots
}

/// `path` resolved (symbolic links and `..` followed) when it is a `.jsonl` file inside one
/// of `roots` (or one not written yet, in a folder inside them); `None` otherwise. A hook's
/// word is not enough to serve a file to a paired device: only the agents' own transcripts
/// are followed.
pub fn under_roots(path: &Path, roots: &[PathBuf]) -> Option<PathBuf> {
    let real = resolved(path)?;
    if real.extension().is_none_or(|e| e != "jsonl") || real.is_dir() {
        return None;
    }
    roots
        .iter()
        .filter_map(|r| resolved(r))
        .any(|r| real.starts_with(&r))
        .then_some(real)
}

/// `path` with its links and `..` resolved. A file that does not exist yet (Claude Code names
/// its transcript in its first hook, before it writes it or its project folder) is resolved
/// through its deepest existing folder; a `..` among the parts not yet made refuses it.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        rest.push(at.file_name()?.to_owned());
        at = at.parent()?;
        if let Ok(base) = std::fs::canonicalize(at) {
            return Some(rest.iter().rev().fold(base, |p, n| p.join(n)));
        }
    }
}

/// The tool the transcript shows running (called, no result yet), if any.
pub fn running_tool(insight: &SessionInsight) -> Option<String> {
    insight
        .recent_actions
        .iter()
        .rev()
        .find(|a| a.status == ActionStatus::Running)
        .map(|a| a.tool.clone())
}

/// The most a transcript page reads, so one request never loads a whole long session.
pub const PAGE_BYTES: u64 = 512 * 1024;

/// Where a transcript page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStart {
    /// At this byte offset (a line boundary a previous page returned as `next`).
    After(u64),
    /// The last `n` lines.
    Tail(usize),
}

/// Why a transcript page cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0} is not a JSON-lines transcript; only .jsonl files are served")]
    NotJsonl(PathBuf),
    #[error("cannot read the transcript {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("offset {after} is past the end of the transcript ({size} bytes)")]
    PastEnd { after: u64, size: u64 },
}

/// Reads whole lines of the transcript at `path`: from an offset, or its tail. At most
/// [`PAGE_BYTES`] and `limit` lines; a line still being written is left for the next page.
pub fn read_page(
    path: &Path,
    start: PageStart,
    limit: usize,
) -> Result<paddock_proto::insight::TranscriptPage, PageError> {
    use std::io::{Read, Seek, SeekFrom};
    if path.extension().is_none_or(|e| e != "jsonl") {
        return Err(PageError::NotJsonl(path.to_owned()));
    }
    let io = |source| PageError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let from = match start {
        PageStart::After(after) if after > size => {
            return Err(PageError::PastEnd { after, size });
        }
        PageStart::After(after) => after,
        PageStart::Tail(_) => size.saturating_sub(PAGE_BYTES),
    };
    file.seek(SeekFrom::Start(from)).map_err(io)?;
    let mut buf = Vec::new();
    file.take(PAGE_BYTES).read_to_end(&mut buf).map_err(io)?;
    // Whole lines only: a tail that starts mid-file drops its first, partial line; the last
    // line counts only once its newline is written.
    let mut begin = 0;
    if matches!(start, PageStart::Tail(_)) && from > 0 {
        begin = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1);
    }
    let end = buf
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(begin, |i| i + 1);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut at = begin;
    while at < end.max(begin) {
        let stop = buf[at..end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(end, |i| at + i);
        spans.push((at, stop));
        at = stop + 1;
    }
    match start {
        PageStart::Tail(n) => {
            let skip = spans.len().saturating_sub(n.min(limit));
            spans.drain(..skip);
        }
        PageStart::After(_) => spans.truncate(limit),
    }
    let first = spans.first().map_or(end.max(begin), |s| s.0);
    let next = spans.last().map_or(end.max(begin), |s| s.1 + 1);
    let lines = spans
        .iter()
        .filter(|(a, b)| b > a)
        .map(|&(a, b)| {
            let line = &buf[a..b];
            serde_json::from_slice(line).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(line).into_owned())
            })
        })
        .collect();
    Ok(paddock_proto::insight::TranscriptPage {
        path: path.display().to_string(),
        from: from + first as u64,
        next: from + next as u64,
        size,
        lines,
    })
}

#[cfg(test)]
mod page_tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.jsonl");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn pages_follow_the_file_by_offset_and_leave_a_partial_line_for_later() {
        let (_d, path) = file("{\"a\":1}\n{\"b\":2}\nnot json\n{\"c\":");
        let p = read_page(&path, PageStart::After(0), 2).expect("page");
        assert_eq!(
            p.lines,
            [serde_json::json!({"a":1}), serde_json::json!({"b":2})]
        );
        assert_eq!((p.from, p.next), (0, 16));
        let p = read_page(&path, PageStart::After(p.next), 10).expect("page");
        assert_eq!(p.lines, [serde_json::json!("not json")]);
        assert_eq!(p.next, 25, "the unfinished line is not returned");
        let again = read_page(&path, PageStart::After(p.next), 10).expect("page");
        assert!(again.lines.is_empty());
        assert_eq!(again.next, 25);
        let err = read_page(&path, PageStart::After(1000), 10).expect_err("past the end");
        assert!(err.to_string().contains("past the end"), "{err}");
    }

    #[test]
    fn only_jsonl_files_inside_the_agents_folders_are_transcripts() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path().join(".claude/projects");
        std::fs::create_dir_all(root.join("p")).expect("projects");
        let inside = root.join("p/s.jsonl");
        std::fs::write(&inside, "{}\n").expect("write");
        let outside = dir.path().join("secrets.jsonl");
        std::fs::write(&outside, "{}\n").expect("write");
        let roots = vec![root.clone()];
        assert!(under_roots(&inside, &roots).is_some());
        // Not written yet, in a folder of the agent's: followed once it appears; also when
        // neither its project folder nor the agent's folder exist yet (its first hook).
        assert!(under_roots(&root.join("p/later.jsonl"), &roots).is_some());
        assert!(under_roots(&root.join("new-project/s.jsonl"), &roots).is_some());
        let fresh = dir.path().join("fresh-home/.claude/projects");
        assert!(under_roots(&fresh.join("p/s.jsonl"), std::slice::from_ref(&fresh)).is_some());
        assert_eq!(
            under_roots(&root.join("new/../../../secrets.jsonl"), &roots),
            None
        );
        assert_eq!(under_roots(&outside, &roots), None);
        assert_eq!(
            under_roots(&root.join("p/../../../secrets.jsonl"), &roots),
            None
        );
        std::fs::write(root.join("p/notes.txt"), "x").expect("write");
        assert_eq!(under_roots(&root.join("p/notes.txt"), &roots), None);
        // A link inside the folder to a file outside it is what it points at.
        std::os::unix::fs::symlink(&outside, root.join("p/link.jsonl")).expect("link");
        assert_eq!(under_roots(&root.join("p/link.jsonl"), &roots), None);
    }

    #[test]
    fn the_tail_is_the_last_whole_lines_and_only_jsonl_is_served() {
        let text: String = (0..100).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        let (_d, path) = file(&text);
        let p = read_page(&path, PageStart::Tail(3), 200).expect("tail");
        assert_eq!(p.lines.len(), 3);
        assert_eq!(p.lines[2], serde_json::json!({"n": 99}));
        assert_eq!(p.next, p.size);
        let (_d2, dir) = file("");
        let other = dir.with_extension("txt");
        std::fs::write(&other, "secret").expect("write");
        assert!(matches!(
            read_page(&other, PageStart::Tail(1), 10),
            Err(PageError::NotJsonl(_))
        ));
    }
}
