//! Benchmark of terminal-emulator model crates for Paddock's PTY holder:
//! parse throughput, memory, snapshot cost and size, snapshot round-trip
//! fidelity, and split-chunk safety. Run from this folder with
//! `CARGO_TARGET_DIR=/tmp/tm-target cargo run --release` (about 1.5 min on
//! 2 cores); it prints markdown tables to stdout and progress to stderr.

mod alacritty_model;
mod alloc;
mod avt_model;
mod corpus;
mod model;
mod vt100_model;

use corpus::{COLS, ROWS};
use model::{Model, compare_cells};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

const CORPUS_BYTES: usize = 64 << 20;
const SCROLLBACK: usize = 100;
/// Feed size for throughput runs, like one PTY read.
const CHUNK: usize = 4096;
const RUNS: usize = 3;
/// Prefix of each corpus used for the split-chunk check.
const SPLIT_PREFIX: usize = 4 << 20;
/// Round trips taken at evenly spaced points while feeding a corpus.
const CHECKPOINTS: usize = 64;
const MIB: f64 = (1 << 20) as f64;

struct Corpus {
    name: &'static str,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct Memory {
    idle_heap: usize,
    peak_heap: usize,
    retained_heap: usize,
    rss_growth: usize,
}

struct Snapshot {
    micros: f64,
    bytes: usize,
}

struct RoundTrip {
    cell_diffs: usize,
    first_diff: Option<String>,
    state_diffs: Vec<&'static str>,
    untracked: Vec<&'static str>,
}

/// Round trips at checkpoints through the corpus: how many kept the cells,
/// and how many kept the tracked state.
#[derive(Default)]
struct Checkpoints {
    cells_ok: usize,
    state_ok: usize,
    first_diff: Option<String>,
}

struct CorpusResult {
    mib_per_s: f64,
    memory: Memory,
    snapshot: Snapshot,
    round_trip: RoundTrip,
    checkpoints: Checkpoints,
    split_safe: bool,
}

struct Report {
    name: &'static str,
    per_corpus: Vec<CorpusResult>,
}

fn feed_chunked<M: Model>(model: &mut M, bytes: &[u8]) {
    for chunk in bytes.chunks(CHUNK) {
        model.feed(chunk);
    }
}

/// One timed run on a fresh model; heap and RSS are measured around it.
fn parse_run<M: Model>(bytes: &[u8]) -> (Duration, Memory, M) {
    let rss_before = alloc::rss();
    let heap_before = alloc::reset_peak();
    let start = Instant::now();
    let mut model = M::new(COLS, ROWS, SCROLLBACK);
    let idle_heap = alloc::current().saturating_sub(heap_before);
    feed_chunked(&mut model, bytes);
    let elapsed = start.elapsed();
    let memory = Memory {
        idle_heap,
        peak_heap: alloc::peak() - heap_before,
        retained_heap: alloc::current().saturating_sub(heap_before),
        rss_growth: alloc::rss().saturating_sub(rss_before),
    };
    (elapsed, memory, model)
}

fn time_snapshot<M: Model>(model: &M) -> Snapshot {
    let bytes = model.snapshot().len();
    let start = Instant::now();
    let mut iterations = 0u32;
    while start.elapsed() < Duration::from_millis(300) {
        black_box(model.snapshot());
        iterations += 1;
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
    Snapshot { micros, bytes }
}

/// Snapshot the model, feed the snapshot to a fresh model of the same size,
/// and compare what each shows.
fn round_trip<M: Model>(model: &M) -> RoundTrip {
    let mut restored = M::new(COLS, ROWS, SCROLLBACK);
    restored.feed(&model.snapshot());
    let (cell_diffs, first_diff) = compare_cells(&model.cells(), &restored.cells());
    let state_diffs = model.state().diff(&restored.state());
    let untracked = model.state().untracked();
    RoundTrip {
        cell_diffs,
        first_diff,
        state_diffs,
        untracked,
    }
}

/// Round trips at `CHECKPOINTS` points while feeding the corpus, so that
/// snapshots are also taken mid-redraw, with pending wraps, wide characters
/// at the edge, and partly parsed sequences.
fn checkpoints<M: Model>(bytes: &[u8]) -> Checkpoints {
    let chunks: Vec<&[u8]> = bytes.chunks(CHUNK).collect();
    let every = chunks.len().div_ceil(CHECKPOINTS);
    let mut model = M::new(COLS, ROWS, SCROLLBACK);
    let mut result = Checkpoints::default();
    for (i, chunk) in chunks.iter().enumerate() {
        model.feed(chunk);
        if (i + 1) % every == 0 || i + 1 == chunks.len() {
            let rt = round_trip(&model);
            result.cells_ok += usize::from(rt.cell_diffs == 0);
            result.state_ok += usize::from(rt.state_diffs.is_empty());
            if result.first_diff.is_none() {
                result.first_diff = rt.first_diff;
            }
        }
    }
    result
}

/// Same bytes fed in one call and in random 1..=32-byte pieces (splitting
/// escape sequences and UTF-8 characters) must give the same screen.
fn split_safe<M: Model>(bytes: &[u8]) -> bool {
    let prefix = &bytes[..bytes.len().min(SPLIT_PREFIX)];
    let mut whole = M::new(COLS, ROWS, SCROLLBACK);
    whole.feed(prefix);
    let mut split = M::new(COLS, ROWS, SCROLLBACK);
    let mut seed = 0x2545_f491_u64;
    let mut rest = prefix;
    while !rest.is_empty() {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let n = ((seed >> 33) % 32 + 1).min(rest.len() as u64) as usize;
        split.feed(&rest[..n]);
        rest = &rest[n..];
    }
    whole.cells() == split.cells() && whole.state() == split.state()
}

fn bench<M: Model>(corpora: &[Corpus]) -> Report {
    eprintln!("benchmarking {}", M::NAME);
    let per_corpus = corpora
        .iter()
        .map(|corpus| {
            let mut best = Duration::MAX;
            let mut first_memory = None;
            let mut last_model = None;
            for _ in 0..RUNS {
                drop(last_model.take());
                let (elapsed, memory, model) = parse_run::<M>(&corpus.bytes);
                best = best.min(elapsed);
                first_memory.get_or_insert(memory);
                last_model = Some(model);
            }
            let model = last_model.expect("RUNS > 0");
            eprintln!("  {}: best {best:?}", corpus.name);
            CorpusResult {
                mib_per_s: corpus.bytes.len() as f64 / MIB / best.as_secs_f64(),
                memory: first_memory.unwrap_or_default(),
                snapshot: time_snapshot(&model),
                round_trip: round_trip(&model),
                checkpoints: checkpoints::<M>(&corpus.bytes),
                split_safe: split_safe::<M>(&corpus.bytes),
            }
        })
        .collect();
    Report {
        name: M::NAME,
        per_corpus,
    }
}

/// Snapshot and round trip only: for variants whose parsing is identical to
/// a crate already measured.
fn fidelity_only<M: Model>(corpora: &[Corpus]) -> Vec<(Snapshot, RoundTrip, Checkpoints)> {
    corpora
        .iter()
        .map(|corpus| {
            let mut model = M::new(COLS, ROWS, SCROLLBACK);
            feed_chunked(&mut model, &corpus.bytes);
            (
                time_snapshot(&model),
                round_trip(&model),
                checkpoints::<M>(&corpus.bytes),
            )
        })
        .collect()
}

/// `name = "x"` followed by `version = "y"` in the lock file cargo wrote
/// before compiling us.
fn locked_version(name: &str) -> &'static str {
    let lock = include_str!("../Cargo.lock");
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|at| lock[at + needle.len()..].split('"').next())
        .unwrap_or("?")
}

fn kib(bytes: usize) -> String {
    format!("{:.0} KiB", bytes as f64 / 1024.0)
}

/// Table cells: final cells, final state, checkpoints.
fn describe(rt: &RoundTrip, cp: &Checkpoints) -> String {
    let cells = if rt.cell_diffs == 0 {
        "yes".to_owned()
    } else {
        format!("**no** ({} cells differ)", rt.cell_diffs)
    };
    let mut state = if rt.state_diffs.is_empty() {
        "yes".to_owned()
    } else {
        format!("**no**: {}", rt.state_diffs.join(", "))
    };
    if !rt.untracked.is_empty() {
        state += &format!(" (untracked: {})", rt.untracked.join(", "));
    }
    let n = CHECKPOINTS;
    format!(
        "{cells} | {state} | cells {}/{n}, state {}/{n}",
        cp.cells_ok, cp.state_ok
    )
}

fn print_tables(
    corpora: &[Corpus],
    reports: &[Report],
    glued: &[(Snapshot, RoundTrip, Checkpoints)],
) {
    println!("## Terminal model benchmark ({COLS}x{ROWS}, scrollback {SCROLLBACK} lines)\n");
    println!(
        "Crates: vt100 {}, avt {}, alacritty_terminal {} (vte {}).\n",
        locked_version("vt100"),
        locked_version("avt"),
        locked_version("alacritty_terminal"),
        locked_version("vte"),
    );
    let sizes: Vec<String> = corpora
        .iter()
        .map(|c| format!("{} {:.1} MiB", c.name, c.bytes.len() as f64 / MIB))
        .collect();
    println!(
        "Corpora: {}. Fed in {CHUNK}-byte chunks; best of {RUNS} runs.\n",
        sizes.join(", ")
    );

    println!("### Parse throughput (MiB/s, higher is better)\n");
    let names: Vec<&str> = corpora.iter().map(|c| c.name).collect();
    println!("| crate | {} |", names.join(" | "));
    println!("|---|{}", "---:|".repeat(corpora.len()));
    for r in reports {
        let cols: Vec<String> = r
            .per_corpus
            .iter()
            .map(|c| format!("{:.1}", c.mib_per_s))
            .collect();
        println!("| {} | {} |", r.name, cols.join(" | "));
    }

    println!(
        "\n### Memory of one model (first run; counting global allocator, VmRSS for comparison)\n"
    );
    println!("| crate | corpus | heap after new() | peak heap | heap at end | VmRSS growth |");
    println!("|---|---|---:|---:|---:|---:|");
    for r in reports {
        for (corpus, c) in corpora.iter().zip(&r.per_corpus) {
            let m = &c.memory;
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                r.name,
                corpus.name,
                kib(m.idle_heap),
                kib(m.peak_heap),
                kib(m.retained_heap),
                kib(m.rss_growth)
            );
        }
    }

    println!("\n### Snapshot of the final screen (mean time, size)\n");
    println!("| crate | {} |", names.join(" | "));
    println!("|---|{}", "---:|".repeat(corpora.len()));
    let snapshot_row = |name: &str, snaps: Vec<&Snapshot>| {
        let cols: Vec<String> = snaps
            .iter()
            .map(|s| format!("{:.0} µs, {} B", s.micros, s.bytes))
            .collect();
        println!("| {name} | {} |", cols.join(" | "));
    };
    for r in reports {
        snapshot_row(r.name, r.per_corpus.iter().map(|c| &c.snapshot).collect());
    }
    snapshot_row(
        vt100_model::Vt100Glued::NAME,
        glued.iter().map(|(s, _, _)| s).collect(),
    );

    println!("\n### Round trip: model → snapshot → fresh model, compared\n");
    println!(
        "Final screen, and {CHECKPOINTS} checkpoints spread through the corpus. \
         Cells: text + colours + bold/dim/italic/underline/inverse. \
         Split-chunk: the first {} MiB fed whole vs in random 1..=32-byte pieces.\n",
        SPLIT_PREFIX >> 20
    );
    println!(
        "| crate | corpus | final cells match | final state matches | checkpoints matching | split-chunk feed safe |"
    );
    println!("|---|---|---|---|---|---|");
    let mut diffs = Vec::new();
    for r in reports {
        for (corpus, c) in corpora.iter().zip(&r.per_corpus) {
            let safe = if c.split_safe { "yes" } else { "**no**" };
            let text = describe(&c.round_trip, &c.checkpoints);
            println!("| {} | {} | {text} | {safe} |", r.name, corpus.name);
            let first = c
                .round_trip
                .first_diff
                .as_ref()
                .or(c.checkpoints.first_diff.as_ref());
            diffs.extend(first.map(|d| (r.name, corpus.name, d)));
        }
    }
    for (corpus, (_, rt, cp)) in corpora.iter().zip(glued) {
        let text = describe(rt, cp);
        println!(
            "| {} | {} | {text} | (as vt100) |",
            vt100_model::Vt100Glued::NAME,
            corpus.name
        );
        let first = rt.first_diff.as_ref().or(cp.first_diff.as_ref());
        diffs.extend(first.map(|d| (vt100_model::Vt100Glued::NAME, corpus.name, d)));
    }
    for (crate_name, corpus, diff) in diffs {
        println!("\n- first cell difference, {crate_name} / {corpus}: `{diff}`");
    }
    println!("\n{FEATURES}");
}

const FEATURES: &str = "\
### Features (from each crate's API and source)

| | vt100 | avt | alacritty_terminal |
|---|---|---|---|
| input | `&[u8]` | `&str`/`char` only (bench decodes UTF-8 across chunks) | `&[u8]` via `vte::ansi::Processor` |
| snapshot | `state_formatted()` (active grid + cursor + input modes) | `dump()` (both buffers, cursor, saved cursors, scroll region, tabs, charsets, pending parser state) | none: bench serializer we would own |
| title | via `Callbacks::set_window_title`, not stored, not in snapshot | not parsed (OSC only 133) | via `EventListener` `Event::Title`, not readable from `Term` |
| alternate screen | `alternate_screen()`; 47/1049, not 1047; not in snapshot | `active_screen_kind()`; 1047/1049; in dump | `TermMode::ALT_SCREEN`; 1049 only |
| cursor visible | `hide_cursor()` | `cursor().visible` | `TermMode::SHOW_CURSOR` |
| app cursor keys | `application_cursor()` | `cursor_key_app_mode()` | `TermMode::APP_CURSOR` |
| app keypad | `application_keypad()` | no | `TermMode::APP_KEYPAD` |
| bracketed paste | `bracketed_paste()` | no | `TermMode::BRACKETED_PASTE` |
| mouse modes | `mouse_protocol_mode()`/`_encoding()` (9/1000/1002/1003, 1005/1006) | no | click/drag/motion, SGR/UTF-8 |
| focus reporting 1004, sync output 2026 | no (via `unhandled_csi` callback) | no | 1004 yes; 2026 buffers output until ESU/2 MiB/timeout |
| scrollback | `Parser::new(rows, cols, n)`, `set_scrollback(offset)` to view | `with_scrollback(cols, rows, Some(n))`, default 0 | `Config { scrolling_history: n }`, default 10000 |
| resize | `set_size(rows, cols)`: no reflow, truncates | `resize(cols, rows)`: reflows primary | `resize(dims)`: reflows |
| graphemes | cell holds a string (combining marks kept) | one `char` per cell: a combining mark takes its own column | `c` + `zerowidth()` chars |
| answers queries (DA, DSR/CPR) | no (`unhandled_csi` callback) | no | yes, as `Event::PtyWrite` |
| dependencies | vte, unicode-width, itoa | unicode-width | vte, polling, signal-hook, rustix-openpty, parking_lot, regex-automata, … |
";

fn main() {
    eprintln!("generating corpora…");
    let corpora = [
        Corpus {
            name: "(a) agent",
            bytes: corpus::agent(CORPUS_BYTES),
        },
        Corpus {
            name: "(b) cat",
            bytes: corpus::cat_source(CORPUS_BYTES),
        },
        Corpus {
            name: "(c) alt-screen",
            bytes: corpus::alt_screen(CORPUS_BYTES),
        },
    ];
    let reports = [
        bench::<vt100_model::Vt100>(&corpora),
        bench::<avt_model::Avt>(&corpora),
        bench::<alacritty_model::Alacritty>(&corpora),
    ];
    let glued = fidelity_only::<vt100_model::Vt100Glued>(&corpora);
    print_tables(&corpora, &reports, &glued);
}
