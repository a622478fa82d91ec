//! Reading a conversation from the end of its file (`conversation::reader`): every page read
//! that way equals the page a read of the whole file gives, for the recorded Claude Code
//! transcript and a generated 5,000-turn one with everything that crosses turn boundaries
//! (a tool result after the next prompt, a compaction noted before `/compact`, a background
//! task's notice, side-chain and meta lines, lines that are not JSON); cursors stay valid as
//! the file grows; a cut, replaced or rewritten file is read again.

use paddock_agents::conversation::reader::FIRST_TURNS;
use paddock_agents::{AgentKind, ConversationReader, Prices};
use paddock_proto::conversation::ConversationPage;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// A Claude Code transcript of `turns` turns; `word` names the prompts (to tell two apart).
fn transcript(turns: usize, word: &str) -> String {
    let ts = "2026-12-06T10:00:00.000Z";
    let mut out = String::new();
    let mut line = |v: Value| {
        let _ = writeln!(out, "{v}");
    };
    // Before the first prompt: a summary, and an answer that makes a turn without one.
    line(json!({"type": "summary", "summary": "earlier work"}));
    line(
        json!({"type": "assistant", "timestamp": ts, "message": {"id": "m-head", "model": "claude-sonnet-4-5",
        "usage": {"input_tokens": 10, "output_tokens": 5}, "content": [{"type": "text", "text": "Resuming."}]}}),
    );
    let mut late: Option<Value> = None;
    for n in 0..turns {
        if n % 97 == 5 {
            line(
                json!({"type": "user", "timestamp": ts, "message": {"role": "user", "content":
                format!("<task-notification><summary>Agent {n} finished</summary></task-notification>")}}),
            );
        } else if n % 100 == 21 {
            line(
                json!({"type": "user", "timestamp": ts, "message": {"content": "<command-name>/compact</command-name>\n<command-message>compact</command-message>\n<command-args></command-args>"}}),
            );
        } else if n % 13 == 0 {
            line(
                json!({"type": "user", "timestamp": ts, "message": {"content": [{"type": "text", "text": format!("{word} {n}: look at this")}, {"type": "image"}]}}),
            );
        } else {
            line(
                json!({"type": "user", "timestamp": ts, "message": {"content": format!("{word} {n}: make the tests pass")}}),
            );
        }
        if let Some(result) = late.take() {
            line(result);
        }
        if n % 7 == 0 {
            line(
                json!({"type": "user", "isMeta": true, "message": {"content": "<system-reminder>meta</system-reminder>"}}),
            );
        }
        if n % 17 == 0 {
            line(
                json!({"type": "user", "isSidechain": true, "message": {"content": "a sub-agent's prompt"}}),
            );
        }
        let msg = format!("m{n}");
        let usage =
            json!({"input_tokens": 100 + n, "output_tokens": 20, "cache_read_input_tokens": 3000});
        line(
            json!({"type": "assistant", "timestamp": ts, "requestId": format!("r{n}"), "message": {"id": msg, "model": "claude-sonnet-4-5",
            "usage": usage, "content": [{"type": "thinking", "thinking": format!("Turn {n} needs a test run.")}]}}),
        );
        line(
            json!({"type": "assistant", "timestamp": ts, "requestId": format!("r{n}"), "message": {"id": msg, "model": "claude-sonnet-4-5",
            "usage": usage, "content": [{"type": "text", "text": format!("Running the tests of module {n}.")},
                {"type": "tool_use", "id": format!("t{n}"), "name": "Bash", "input": {"command": format!("cargo test -p m{n}")}}]}}),
        );
        let result = json!({"type": "user", "timestamp": ts, "message": {"content": [{"type": "tool_result", "tool_use_id": format!("t{n}"),
            "content": format!("test result: ok. {n} passed"), "is_error": n % 11 == 0}]}});
        if n % 10 == 3 {
            // Written after the next prompt (a background command's result).
            late = Some(result);
        } else {
            line(result);
        }
        if n % 29 == 0 {
            out_garbage(&mut line);
        }
        if n % 31 == 0 {
            line(
                json!({"type": "user", "timestamp": ts, "message": {"content": [{"type": "text", "text": "[Request interrupted by user]"}]}}),
            );
        }
        if n % 41 == 0 {
            line(
                json!({"type": "assistant", "timestamp": ts, "isApiErrorMessage": true, "apiErrorStatus": 529,
                "message": {"content": [{"type": "text", "text": "API Error: 529 overloaded"}]}}),
            );
        }
        if n % 23 == 0 {
            line(
                json!({"type": "user", "timestamp": ts, "message": {"content": "<local-command-stdout>Total cost: $0.10</local-command-stdout>"}}),
            );
        }
        if n % 50 == 20 {
            // A manual compaction is noted before the prompt that asked for it (n % 100 ==
            // 20: the next turn is `/compact`), or goes with the turn before a plain prompt.
            line(
                json!({"type": "system", "subtype": "compact_boundary", "compactMetadata": {"trigger": "manual", "preTokens": 90000 + n}}),
            );
            line(
                json!({"type": "user", "isCompactSummary": true, "message": {"content": "This session is being continued…"}}),
            );
        }
        let end = if n % 3 == 0 {
            "Shall I commit?"
        } else {
            "All green."
        };
        line(
            json!({"type": "assistant", "timestamp": ts, "requestId": format!("r{n}b"), "message": {"id": format!("m{n}b"), "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 50, "output_tokens": 9}, "content": [{"type": "text", "text": format!("Module **{n}** passes. {end}")}]}}),
        );
    }
    if let Some(result) = late {
        line(result);
    }
    out
}

fn out_garbage(line: &mut impl FnMut(Value)) {
    // Not a JSON object: skipped by every reader alike.
    line(json!(["not", "an", "object"]));
}

fn whole(path: &Path) -> ConversationReader {
    let mut r = ConversationReader::open_whole(&AgentKind::Claude, path).expect("open");
    r.poll().expect("read");
    r
}

/// Every page of `limit` turns, newest first, following the cursors to the start.
fn all_pages(r: &mut ConversationReader, limit: usize) -> Vec<ConversationPage> {
    let prices = Prices::default();
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = r.page(&prices, before, limit).expect("page");
        before = page.older;
        pages.push(page);
        if before.is_none() {
            return pages;
        }
    }
}

/// The pages of `tail` (read from the end) are those of `reference`: the same turns and
/// cursors; `total` is the same once the reader has reached the file's start.
fn assert_same_pages(
    tail: &mut ConversationReader,
    reference: &mut ConversationReader,
    limit: usize,
) {
    let want = all_pages(reference, limit);
    let got = all_pages(tail, limit);
    assert_eq!(got.len(), want.len(), "pages of {limit}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.turns, w.turns, "page {i} of {limit} turns");
        assert_eq!(g.older, w.older, "page {i} of {limit} turns");
    }
    assert_eq!(tail.total(), reference.total());
}

#[test]
fn every_page_of_a_5000_turn_transcript_read_from_its_end_equals_a_whole_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("long.jsonl");
    std::fs::write(&path, transcript(5000, "Step")).expect("write");
    let mut reference = whole(&path);
    assert_eq!(
        reference.total(),
        Some(5001),
        "5,000 turns and the one before the first prompt"
    );

    let mut tail = ConversationReader::open(&AgentKind::Claude, &path).expect("open");
    tail.poll().expect("read");
    // Only the newest part was read: the number of turns is not known yet.
    assert_eq!(tail.total(), None);
    let prices = Prices::default();
    let first = tail.page(&prices, None, 30).expect("page");
    assert_eq!(
        first.turns,
        reference.page(&prices, None, 30).expect("page").turns
    );
    assert!(first
        .turns
        .last()
        .and_then(|t| t.prompt.as_deref())
        .is_some_and(|p| p.starts_with("Step 4999")));
    for limit in [7, 200] {
        let mut tail = ConversationReader::open(&AgentKind::Claude, &path).expect("open");
        assert_same_pages(&mut tail, &mut reference, limit);
    }
    // Each turn alone, asked for by its key, from a reader that has read only the newest.
    let keys: Vec<u64> = all_pages(&mut reference, 200)
        .iter()
        .flat_map(|p| p.turns.iter().map(|t| t.index))
        .collect();
    for &key in keys.iter().step_by(97).chain(keys.first()) {
        let mut tail = ConversationReader::open(&AgentKind::Claude, &path).expect("open");
        assert_eq!(
            tail.turn(&prices, key).expect("read"),
            reference.turn(&prices, key).expect("read"),
            "turn {key}"
        );
    }
}

#[test]
fn the_recorded_transcript_reads_the_same_from_its_end_one_turn_at_a_time() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/claude-transcript-2.1.328.jsonl");
    let mut reference = whole(&path);
    assert!(
        reference.total().is_some_and(|n| n >= 2),
        "{:?}",
        reference.total()
    );
    for limit in [1, 2, 3] {
        let mut tail = ConversationReader::open(&AgentKind::Claude, &path)
            .expect("open")
            .sized(1, 0);
        assert_same_pages(&mut tail, &mut reference, limit);
    }
}

#[test]
fn cursors_stay_valid_as_the_file_grows_and_old_turns_leave_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("growing.jsonl");
    let text = transcript(1200, "Step");
    let lines: Vec<&str> = text.lines().collect();
    let half = lines[..lines.len() / 2].join("\n") + "\n";
    std::fs::write(&path, &half).expect("write");
    let prices = Prices::default();
    // The smallest live part: old turns are dropped and read again when asked for.
    let mut tail = ConversationReader::open(&AgentKind::Claude, &path)
        .expect("open")
        .sized(2, 0);
    tail.poll().expect("read");
    let first = tail.page(&prices, None, 30).expect("page");
    let cursor = first.older.expect("older turns");

    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(&text.as_bytes()[half.len()..]).expect("append");
    let polled = tail.poll().expect("read");
    assert!(!polled.reset);
    let mut reference = whole(&path);
    let newest = first.turns.last().map(|t| t.index).expect("a turn");
    let new_keys: Vec<u64> = all_pages(&mut reference, 200)
        .iter()
        .flat_map(|p| p.turns.iter().map(|t| t.index))
        .filter(|&k| k > newest)
        .collect();
    // What changed: the turn that was open, and every new one still in memory.
    assert!(polled.changed.len() <= FIRST_TURNS.max(new_keys.len() + 1));
    assert!(
        polled.changed.iter().all(|k| *k >= newest),
        "{:?}",
        &polled.changed[..3]
    );
    assert_eq!(polled.changed.last(), new_keys.iter().max());

    // The cursor given before the file grew serves the same turns as before, and as a whole read.
    let again = tail.page(&prices, Some(cursor), 30).expect("page");
    assert_eq!(
        again.turns,
        reference
            .page(&prices, Some(cursor), 30)
            .expect("page")
            .turns
    );
    assert_eq!(
        tail.page(&prices, Some(first.turns[0].index + 1), 30)
            .expect("page")
            .turns
            .last(),
        first.turns.first()
    );
    assert_same_pages(&mut tail, &mut reference, 30);
}

#[test]
fn a_cut_or_replaced_or_rewritten_file_is_read_again_from_its_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, transcript(400, "Step")).expect("write");
    let prices = Prices::default();
    let mut tail = ConversationReader::open(&AgentKind::Claude, &path).expect("open");
    tail.page(&prices, None, 30).expect("page");

    // Cut to a shorter prefix.
    let text = transcript(400, "Step");
    let cut: String = text.lines().take(900).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, &cut).expect("cut");
    assert!(tail.poll().expect("read").reset);
    assert_same_pages(&mut tail, &mut whole(&path), 30);

    // Replaced by another file (a rename over it).
    let other = dir.path().join("other.jsonl");
    std::fs::write(&other, transcript(300, "Task")).expect("write");
    std::fs::rename(&other, &path).expect("rename");
    assert!(tail.poll().expect("read").reset);
    assert_same_pages(&mut tail, &mut whole(&path), 30);

    // Rewritten in place, longer, with the same first bytes: found out when older turns are
    // not where they were; the reader says so and reads it again.
    tail.page(&prices, None, 30).expect("page");
    std::fs::write(&path, transcript(500, "Rewritten")).expect("rewrite");
    tail.poll().expect("read");
    let mut before = None;
    let err = loop {
        match tail.page(&prices, before, 30) {
            Ok(page) => match page.older {
                Some(c) => before = Some(c),
                None => panic!(
                    "the rewritten file went unnoticed: {:?}",
                    page.turns
                        .iter()
                        .map(|t| (t.index, t.prompt.clone()))
                        .collect::<Vec<_>>()
                ),
            },
            Err(e) => break e,
        }
    };
    assert!(
        err.to_string().contains("ask for the newest page again"),
        "{err}"
    );
    assert!(tail.poll().expect("read").reset);
    assert_same_pages(&mut tail, &mut whole(&path), 30);
}
