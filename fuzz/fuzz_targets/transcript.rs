//! Reads arbitrary bytes as a transcript file, from its end, a page of 2 turns at a time, as
//! the conversation view does (`paddock_agents::ConversationReader`: the supervisor's
//! `Transcripts::conversation_page` behind `GET /api/v1/sessions/{id}/conversation`).
//!
//! Input layout: byte 0 is a config byte, the rest is the file. Config: bit 0 picks the agent
//! whose file it is (0: Claude Code, read from its end; 1: Codex, read from its start); bits
//! 1-2 + 1 is how many turns the reader reads first (1..=4, so that small inputs reach the
//! reading of older turns backwards, as a long file does with the default 64).
//!
//! Properties, paging back from the newest turns until the cursor runs out: nothing panics
//! and no page fails (the file does not change); each page holds at most 2 turns, in order
//! (ascending keys), all before the cursor asked for; the next cursor is before this one
//! (progress) and the paging ends within one page per line of the file; each page equals
//! the page a read of the whole file from its start gives (the same turns, prompts, starts and
//! cursors; see [`outline`] for what is left out); at the end the reader
//! knows the number of turns, and it is the number of turns the pages held.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paddock_agents::{AgentKind, ConversationReader, Prices};
use paddock_proto::conversation::Turn;
use std::path::PathBuf;
use std::sync::OnceLock;

const PAGE: usize = 2;

/// The file each input is written to (one per process, in a directory of its own).
fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("paddock-fuzz-transcript-")
            .tempdir()
            .expect("a temporary directory");
        // Kept for the whole run: libFuzzer ends the process without running destructors.
        dir.keep().join("session.jsonl")
    })
}

/// What a page read from the end must share with a whole read's page: each turn's key,
/// prompt and start. Left out: the items, the usage and the time of the last line, which
/// join lines by id across the file (a tool result to its call, usage once per API message
/// id). A whole read joins them over the whole file; a read from the end within the stretch it reads (the documented
/// bound, `conversation::reader`), so a fuzzed file that repeats ids in distant turns (which
/// the agents do not write) reads differently there. `crates/agents/tests/conversation_tail.rs`
/// checks whole-page equality on the recorded and generated transcripts.
fn outline(turns: &[Turn]) -> Vec<(u64, Option<&str>, Option<u64>)> {
    turns
        .iter()
        .map(|t| (t.index, t.prompt.as_deref(), t.started_at_ms))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, content)) = data.split_first() else {
        return;
    };
    let kind = if cfg & 1 == 0 {
        AgentKind::Claude
    } else {
        AgentKind::Codex
    };
    let first_turns = usize::from((cfg >> 1) & 0b11) + 1;
    let path = file();
    std::fs::write(path, content).expect("writing the transcript file");

    let prices = Prices::default();
    let mut tail = ConversationReader::open(&kind, path)
        .expect("a reader of a Claude Code or Codex transcript")
        .sized(first_turns, 0);
    let mut whole = ConversationReader::open_whole(&kind, path).expect("a whole-file reader");

    // Every turn starts on a line of its own: more pages than lines means paging never ends.
    let max_pages = content.iter().filter(|&&b| b == b'\n').count() + 2;
    let mut before: Option<u64> = None;
    let mut seen: u64 = 0;
    for n in 0.. {
        assert!(
            n < max_pages,
            "paging back did not end after {max_pages} pages (cursor {before:?})"
        );
        let page = tail
            .page(&prices, before, PAGE)
            .unwrap_or_else(|e| panic!("page {n} before {before:?} failed: {e}"));
        let want = whole
            .page(&prices, before, PAGE)
            .unwrap_or_else(|e| panic!("whole-file page {n} before {before:?} failed: {e}"));
        let keys: Vec<u64> = page.turns.iter().map(|t| t.index).collect();
        assert!(
            keys.len() <= PAGE,
            "page {n} holds {} turns, more than the {PAGE} asked for",
            keys.len()
        );
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "page {n} is not in order: {keys:?}"
        );
        let limit = before.unwrap_or(u64::MAX);
        assert!(
            keys.iter().all(|&k| k < limit),
            "page {n} holds turns at or after its cursor {limit}: {keys:?}"
        );
        assert_eq!(
            outline(&page.turns),
            outline(&want.turns),
            "page {n} before {before:?} differs from a whole-file read"
        );
        assert_eq!(
            page.older, want.older,
            "page {n} before {before:?}: its cursor differs from a whole-file read's"
        );
        seen += keys.len() as u64;
        match page.older {
            Some(older) => {
                assert!(
                    older < limit,
                    "page {n} makes no progress: cursor {older} after {before:?}"
                );
                assert!(!keys.is_empty(), "page {n} is empty but has a cursor");
                before = Some(older);
            }
            None => break,
        }
    }
    assert_eq!(
        tail.total(),
        Some(seen),
        "after the last page the reader must know the number of turns the pages held"
    );
});
