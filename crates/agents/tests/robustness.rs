//! Nothing an agent writes can make a reader panic: every real sample line, cut at every
//! length and with bytes flipped, goes through every reader and classifier; each must
//! either read it or count it as skipped.

use paddock_agents::aider::AiderHistory;
use paddock_agents::claude::transcript::ClaudeTranscript;
use paddock_agents::codex::CodexRollout;
use paddock_agents::{adapter_for, AgentKind, Prices};
use std::path::Path;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .expect("sample")
}

/// Lines of every sample, then mangled copies: cut at many lengths, bytes changed.
fn mangled_lines() -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for f in [
        "claude-transcript-2.1.328.jsonl",
        "codex-rollout-synthetic.jsonl",
    ] {
        lines.extend(data(f).split(|b| *b == b'\n').map(<[u8]>::to_vec));
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let originals = lines.clone();
    for l in &originals {
        for cut in (0..l.len()).step_by(7.max(l.len() / 40)) {
            lines.push(l[..cut].to_vec());
        }
        for _ in 0..20 {
            let mut m = l.clone();
            if m.is_empty() {
                continue;
            }
            for _ in 0..3 {
                let i = (next() % m.len() as u64) as usize;
                m[i] = (next() & 0xff) as u8;
            }
            lines.push(m);
        }
    }
    lines
}

#[test]
fn mangled_transcript_lines_never_panic_and_are_counted() {
    let lines = mangled_lines();
    let mut claude = ClaudeTranscript::new();
    let mut codex = CodexRollout::new();
    let mut aider = AiderHistory::new();
    let mut history = paddock_agents::history::ClaudeHistory::default();
    let mut texts = Vec::new();
    for l in &lines {
        claude.apply_line(l);
        codex.apply_line(l);
        aider.apply_line(l);
        history.apply_line(l, &mut texts);
    }
    let row = history.session("/x.jsonl", 1, &Prices::default());
    assert_eq!(
        row.session_id.as_deref(),
        Some("63a89093-4ee6-447d-b5e0-c1488233b86a")
    );
    let prices = Prices::default();
    let c = claude.insight(&prices);
    let x = codex.insight(&prices);
    aider.insight(&prices);
    assert!(
        c.skipped_lines > 100,
        "cut lines are counted: {}",
        c.skipped_lines
    );
    assert!(x.skipped_lines > 100);
    // The insight is still whole: it serializes.
    serde_json::to_string(&c).expect("serialize");
    serde_json::to_string(&x).expect("serialize");
}

#[test]
fn mangled_hook_payloads_and_screens_never_panic() {
    let hooks = data("claude-hooks-2.1.328.json");
    let screen = String::from_utf8(data("claude-permission-screen-2.1.328.txt")).expect("utf8");
    let kinds = [
        AgentKind::Claude,
        AgentKind::Codex,
        AgentKind::Gemini,
        AgentKind::Aider,
        AgentKind::Other("x".into()),
    ];
    for kind in &kinds {
        let a = adapter_for(kind);
        for cut in (0..hooks.len()).step_by(13) {
            let _ = a.parse_hook(&hooks[..cut]);
        }
        let rows: Vec<&str> = screen.lines().collect();
        for start in 0..rows.len() {
            for end in start..=rows.len() {
                let _ = a.classify_screen(&rows[start..end], None);
            }
        }
        // Rows cut inside multi-byte characters arrive as replacement characters.
        let lossy: Vec<String> = screen
            .lines()
            .map(|r| String::from_utf8_lossy(&r.as_bytes()[..r.len() / 2]).into_owned())
            .collect();
        let lossy: Vec<&str> = lossy.iter().map(String::as_str).collect();
        let _ = a.classify_screen(&lossy, Some(std::time::Duration::from_secs(9)));
    }
}

#[test]
fn text_nobody_takes_does_not_pile_up() {
    let mut t = ClaudeTranscript::new();
    for i in 0..10_000 {
        let line = serde_json::json!({"type": "user", "message": {"role": "user", "content": format!("prompt {i}")}});
        t.apply_line(line.to_string().as_bytes());
    }
    let texts = t.take_new_texts();
    assert!(texts.len() <= 4096, "{}", texts.len());
    assert_eq!(
        texts.last().map(|x| x.2.as_str()),
        Some("prompt 9999"),
        "the newest are kept"
    );
    assert_eq!(t.insight(&Prices::default()).prompts, 10_000);
}
