//! Deterministic corpora, generated in memory. Every generator stops at the
//! first unit boundary (line, frame) past `target` bytes, so no escape
//! sequence or UTF-8 character is ever cut at the end.

use std::fmt::Write as _;

pub const COLS: usize = 200;
pub const ROWS: usize = 50;

/// xorshift64*: tiny, fast and reproducible across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const WORDS: &[&str] = &[
    "the",
    "agent",
    "reads",
    "file",
    "src/main.rs",
    "update",
    "tests",
    "passing",
    "function",
    "cargo",
    "build",
    "Reading",
    "Editing",
    "refactor",
    "module",
    "error[E0308]:",
    "warning:",
    "mismatched",
    "types",
    "expected",
    "found",
    "let",
    "fn",
    "impl",
    "PTY",
    "session",
    "holder",
    "snapshot",
    "screen",
    "ok",
    "done",
    "in",
    "of",
    "to",
    "and",
    "with",
    "a",
    "is",
];

/// CJK, emoji, and one combining sequence (e + U+0301).
const UNICODE: &[&str] = &[
    "日本語のテキスト",
    "中文字符",
    "한국어",
    "✅",
    "🚀",
    "📦",
    "🦀",
    "e\u{301}",
    "…",
    "→",
    "✔",
];

const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// A random SGR: 16-colour, 256-colour or truecolor, sometimes with attributes.
fn sgr(rng: &mut Rng, out: &mut String) {
    out.push_str("\x1b[");
    match rng.below(3) {
        0 => out.push_str(rng.pick(&["31", "32", "33", "34", "35", "36", "90", "97"])),
        1 => write!(out, "38;5;{}", rng.below(256)).unwrap(),
        _ => {
            let (r, g, b) = (rng.below(256), rng.below(256), rng.below(256));
            write!(out, "38;2;{r};{g};{b}").unwrap();
        }
    }
    if rng.chance(20) {
        out.push_str(rng.pick(&[";1", ";2", ";3", ";4", ";7"]));
    }
    if rng.chance(10) {
        write!(out, ";48;5;{}", rng.below(256)).unwrap();
    }
    out.push('m');
}

/// One line of agent prose: words, coloured spans, some unicode. Some lines
/// are longer than the screen and wrap.
fn prose_line(rng: &mut Rng, out: &mut String) {
    let max_words = if rng.chance(10) { 60 } else { 25 };
    let words = rng.range(3, max_words);
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        if rng.chance(8) {
            sgr(rng, out);
            out.push_str(rng.pick(WORDS));
            out.push_str("\x1b[0m");
        } else if rng.chance(5) {
            out.push_str(rng.pick(UNICODE));
        } else {
            out.push_str(rng.pick(WORDS));
        }
    }
}

/// The live region an Ink app re-renders: a bordered box, a spinner line and
/// a few status lines, each ending in CRLF (the PTY's onlcr turns Ink's LF
/// into CRLF).
fn live_block(rng: &mut Rng, out: &mut String, height: usize, frame: usize) {
    let width = rng.range(120, COLS);
    out.push_str("\x1b[38;5;244m╭");
    out.push_str(&"─".repeat(width - 2));
    out.push_str("╮\x1b[0m\r\n");
    for _ in 0..height - 4 {
        out.push_str("\x1b[38;5;244m│\x1b[0m ");
        let mut used = 2;
        while used + 12 < width - 1 {
            let word = rng.pick(WORDS);
            if rng.chance(15) {
                sgr(rng, out);
                out.push_str(word);
                out.push_str("\x1b[0m ");
            } else {
                out.push_str(word);
                out.push(' ');
            }
            used += word.chars().count() + 1;
        }
        out.push_str(&" ".repeat((width - 1).saturating_sub(used)));
        out.push_str("\x1b[38;5;244m│\x1b[0m\r\n");
    }
    out.push_str("\x1b[38;5;244m╰");
    out.push_str(&"─".repeat(width - 2));
    out.push_str("╯\x1b[0m\r\n");
    write!(
        out,
        "\x1b[38;2;215;119;87m{}\x1b[0m Thinking… \x1b[2m({}s · ↑ {} tokens · esc to interrupt)\x1b[0m\r\n",
        SPINNER[frame % SPINNER.len()],
        frame,
        rng.below(20_000),
    )
    .unwrap();
    out.push_str("\x1b[1m>\x1b[0m \x1b[7m \x1b[0m\r\n");
}

/// ansi-escapes' eraseLines(n), as Ink's log-update emits it.
fn erase_lines(out: &mut String, n: usize) {
    for i in 0..n {
        out.push_str("\x1b[2K");
        if i + 1 < n {
            out.push_str("\x1b[1A");
        }
    }
    if n > 0 {
        out.push_str("\x1b[G");
    }
}

/// (a) Agent-like output: committed prose plus an Ink live region that is
/// erased and redrawn inside synchronized-update brackets, title updates,
/// bracketed paste and focus reporting on, cursor hidden.
pub fn agent(target: usize) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = String::with_capacity(target + (1 << 16));
    out.push_str("\x1b]0;✳ Claude Code\x07\x1b[?2004h\x1b[?1004h\x1b[?25l");
    while out.len() < target {
        for _ in 0..rng.range(3, 30) {
            prose_line(&mut rng, &mut out);
            out.push_str("\r\n");
        }
        let height = rng.range(12, 24);
        let mut previous = 0;
        for frame in 0..rng.range(3, 12) {
            out.push_str("\x1b[?2026h");
            erase_lines(&mut out, previous);
            live_block(&mut rng, &mut out, height, frame);
            previous = height + 1;
            out.push_str("\x1b[?2026l");
            if frame % 4 == 0 {
                write!(
                    out,
                    "\x1b]0;{} Claude Code\x07",
                    SPINNER[frame % SPINNER.len()]
                )
                .unwrap();
            }
        }
    }
    out.into_bytes()
}

const SOURCE_TOKENS: &[&str] = &[
    "fn", "let", "mut", "pub", "struct", "impl", "self", "match", "if", "else", "return",
    "Some(x)", "None", "Ok(())", "Err(e)", "=>", "=", "+", "&mut", "buf", "len", "i", "0", "1",
    "usize", "Vec<u8>", "String", "::new()", ".push(", ")", "(", "{", "}", ";", ",", "?",
];

/// (b) `cat` of source code: mostly ASCII, CRLF line endings, some tabs.
pub fn cat_source(target: usize) -> Vec<u8> {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut out = String::with_capacity(target + 256);
    while out.len() < target {
        let depth = rng.below(5);
        if rng.chance(10) {
            out.push_str(&"\t".repeat(depth));
        } else {
            out.push_str(&"    ".repeat(depth));
        }
        if rng.chance(12) {
            out.push_str("// ");
            for _ in 0..rng.range(2, 12) {
                out.push_str(rng.pick(WORDS));
                out.push(' ');
            }
        } else if !rng.chance(8) {
            for _ in 0..rng.range(1, 16) {
                out.push_str(rng.pick(SOURCE_TOKENS));
                out.push(' ');
            }
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// One full 200-column row of coloured segments, like htop or a TUI table.
fn alt_row(rng: &mut Rng, out: &mut String) {
    let mut col = 0;
    while col < COLS {
        write!(
            out,
            "\x1b[0;38;5;{};48;2;{};{};{}m",
            rng.below(256),
            rng.below(64),
            rng.below(64),
            rng.below(96)
        )
        .unwrap();
        if rng.chance(10) {
            out.push_str("\x1b[1m");
        }
        let segment = rng.range(4, 40).min(COLS - col);
        let mut written = 0;
        while written < segment {
            if segment - written >= 2 && rng.chance(3) {
                out.push('界');
                written += 2;
            } else {
                out.push(if rng.chance(10) {
                    '█'
                } else {
                    (b'a' + rng.below(26) as u8) as char
                });
                written += 1;
            }
        }
        col += written;
        if rng.chance(2) {
            out.push_str("\x1b[K"); // erase the rest with the current background
            break;
        }
    }
}

/// (c) A full-screen alternate-screen app at 200x50: mouse, application
/// cursor/keypad, hidden cursor, a title; full repaints every 20 frames and
/// partial row updates in between.
pub fn alt_screen(target: usize) -> Vec<u8> {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut out = String::with_capacity(target + (1 << 16));
    out.push_str("\x1b[?1049h\x1b[?1h\x1b=\x1b[?1000h\x1b[?1006h\x1b[?25l\x1b]2;top - bench\x07");
    let mut frame = 0;
    while out.len() < target {
        let full = frame % 20 == 0;
        if full {
            out.push_str("\x1b[0m\x1b[H\x1b[2J");
        }
        for row in 0..ROWS {
            if full || rng.chance(30) {
                write!(out, "\x1b[{};1H", row + 1).unwrap();
                alt_row(&mut rng, &mut out);
            }
        }
        out.push_str("\x1b[0m");
        frame += 1;
    }
    out.into_bytes()
}
