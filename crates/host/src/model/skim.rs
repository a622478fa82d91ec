//! Feeding the screen model: long runs of plain text are fast-forwarded to their last
//! screenful instead of parsed whole, which gives the very screen parsing every byte would,
//! for a small part of the CPU. Why that is exact, and the eight-bytes-at-a-time scan that
//! finds the runs, are in [`crate::fastforward`]; this is the model's side of it: finding
//! the runs in what it is fed and keeping the proof (the watching parser) in step with what
//! it parses.

use super::ScreenModel;
use crate::fastforward::{self, Watch};

/// The fast-forward's state: a watch on the parser and whether it is known to be in its
/// ground state at `offset`.
pub(super) struct Skim {
    watch: Watch,
    ground: bool,
}

impl Skim {
    pub(super) fn new(rows: u16) -> Self {
        Self {
            watch: Watch::new(rows),
            ground: true,
        }
    }

    pub(super) fn set_rows(&mut self, rows: u16) {
        self.watch.set_rows(rows);
    }
}

impl ScreenModel {
    /// Feeds the next bytes of the stream. The screen afterwards is exactly what parsing
    /// every byte gives; long plain runs are fast-forwarded ([`crate::fastforward`]).
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.skim.is_none() {
            self.parser.process(bytes);
            self.offset += bytes.len() as u64;
            self.parsed += bytes.len() as u64;
            return;
        }
        let rows = usize::from(self.parser.screen().size().0.get());
        let skimmable = |run: &[u8]| run.len() >= 4 * rows;
        // `bytes[..done]` are fed; the scan looks for the next long plain run from `at`.
        let (mut done, mut at) = (0, 0);
        while at < bytes.len() {
            let start = at
                + bytes[at..]
                    .iter()
                    .position(|&b| fastforward::is_plain(b))
                    .unwrap_or(bytes.len() - at);
            let end = start
                + fastforward::first_not_plain(&bytes[start..]).unwrap_or(bytes.len() - start);
            if skimmable(&bytes[start..end]) {
                self.parse(&bytes[done..start]);
                self.plain_run(&bytes[start..end], rows);
                done = end;
            }
            at = end;
        }
        self.parse(&bytes[done..]);
    }

    /// Parses `bytes` (the model and its watch); the parser's ground state is known after
    /// them if it was before and they are plain, or if a character was printed in a plain
    /// tail of them.
    fn parse(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.parser.process(bytes);
        self.offset += bytes.len() as u64;
        self.parsed += bytes.len() as u64;
        if let Some(skim) = &mut self.skim {
            let printed = skim.watch.advance(bytes);
            let all_plain = fastforward::first_not_plain(bytes).is_none();
            skim.ground = if all_plain {
                skim.ground || printed
            } else {
                false
            };
        }
    }

    /// A plain run: its first line parsed if the ground state is not known yet (a print
    /// proves it), then fast-forwarded to its last screenful if the watch allows.
    fn plain_run(&mut self, mut run: &[u8], rows: usize) {
        let ground = self.skim.as_ref().is_some_and(|s| s.ground);
        if !ground {
            // Up to the end of the line with the first printable character, which prints
            // only if the parser is in its ground state.
            let first = run.iter().position(|b| (b' '..=b'~').contains(b));
            let line = first
                .and_then(|f| memchr::memchr(b'\n', &run[f..]).map(|i| f + i + 1))
                .unwrap_or(run.len());
            self.parse(&run[..line]);
            run = &run[line..];
        }
        let ready = self
            .skim
            .as_ref()
            .is_some_and(|s| s.ground && !s.watch.region());
        if let Some(q) = ready.then(|| fastforward::skip_point(run, rows)).flatten() {
            let sub = fastforward::substitute(rows);
            self.parser.process(&sub);
            if let Some(skim) = &mut self.skim {
                skim.watch.advance(&sub);
            }
            self.offset += q as u64;
            run = &run[q..];
        }
        self.parse(run);
    }
}

#[cfg(test)]
mod tests {
    use super::super::thread::STEP;
    use super::*;
    use paddock_proto::Size;

    /// Streams that a fast-forward must get exactly right: plain floods after and around
    /// modes, colours, titles, an unterminated OSC, scrolling regions (with the cursor
    /// outside them), the alternate screen, bare line feeds, long wrapping lines, tabs and a
    /// UTF-8 character cut in two.
    fn streams() -> Vec<Vec<u8>> {
        let lines = |n: usize, tag: &str| -> Vec<u8> {
            (0..n)
                .flat_map(|i| format!("{tag} {i}\t{}\r\n", "x".repeat(i % 37)).into_bytes())
                .collect()
        };
        let cat = |parts: &[&[u8]]| parts.concat();
        vec![
            cat(&[
                b"\x1b]2;flood\x07\x1b[1;31mred\x1b[0m\r\n",
                &lines(900, "a"),
                b"\x1b[32mgreen ",
                &lines(300, "b"),
                b"tail",
            ]),
            cat(&[
                &lines(200, "before"),
                b"\x1b]0;",
                &lines(400, "inside an osc"),
                b"\x07",
                &lines(150, "after"),
            ]),
            cat(&[
                b"\x1b[5;10r",
                &lines(500, "region"),
                b"\x1b[r",
                &lines(300, "whole"),
            ]),
            cat(&[b"\x1b[2;5r\x1b[20;1H", &lines(400, "below the region")]),
            cat(&[b"\x1b[44mblue\r\n", &lines(500, "on blue"), b"\x1b[0m"]),
            cat(&[
                b"\x1b[?1049h\x1b[H",
                &lines(300, "alt"),
                b"\x1b[?1049l",
                &lines(300, "main"),
            ]),
            (0..600)
                .flat_map(|i| format!("bare {i}\n").into_bytes())
                .collect(),
            cat(&[
                &lines(50, "short"),
                &b"w".repeat(5000),
                b"\r\n",
                &lines(400, "after a long line"),
            ]),
            cat(&[
                b"\xe6\xbc",
                &lines(400, "after half a character"),
                "漢字\r\n".as_bytes(),
                &lines(200, "c"),
            ]),
            cat(&[b"\x1b[", &lines(300, "5;10r then text")]),
            cat(&[
                b"\x1b[10;1H\x1b[?6h",
                &lines(300, "origin mode"),
                b"\x1bc",
                &lines(300, "after reset"),
            ]),
        ]
    }

    /// Cuts `data` into chunks of pseudo-random sizes up to `max`.
    fn chunks(data: &[u8], max: usize, seed: u64) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let (mut at, mut x) = (0, seed);
        while at < data.len() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (((x >> 33) as usize) % max + 1).min(data.len() - at);
            out.push(&data[at..at + n]);
            at += n;
        }
        out
    }

    fn assert_same_screen(skimmed: &ScreenModel, eager: &ScreenModel, what: &str) {
        assert_eq!(skimmed.offset(), eager.offset(), "{what}: offset");
        assert_eq!(
            skimmed.screen().contents_formatted(),
            eager.screen().contents_formatted(),
            "{what}: screen"
        );
        assert_eq!(
            skimmed.screen().cursor_position(),
            eager.screen().cursor_position(),
            "{what}: cursor"
        );
        assert_eq!(
            skimmed.snapshot().data,
            eager.snapshot().data,
            "{what}: snapshot"
        );
        assert_eq!(skimmed.text(), eager.text(), "{what}: text");
    }

    #[test]
    fn fast_forwarding_gives_the_screen_that_parsing_every_byte_gives() {
        let size = Size { cols: 40, rows: 8 };
        for (i, stream) in streams().iter().enumerate() {
            for (max, seed) in [(stream.len(), 0), (1, 0), (7, 1), (300, 2), (5000, 3)] {
                let mut skimmed = ScreenModel::new(size);
                let mut eager = ScreenModel::eager(size, 0);
                for chunk in chunks(stream, max, seed) {
                    skimmed.feed(chunk);
                    eager.feed(chunk);
                }
                assert_same_screen(&skimmed, &eager, &format!("stream {i}, chunks up to {max}"));
            }
        }
    }

    #[test]
    fn fast_forwarding_stays_exact_across_a_resize() {
        let stream = streams().concat();
        let mut skimmed = ScreenModel::new(Size { cols: 40, rows: 8 });
        let mut eager = ScreenModel::eager(Size { cols: 40, rows: 8 }, 0);
        for (n, chunk) in chunks(&stream, 4000, 9).into_iter().enumerate() {
            if n % 5 == 4 {
                let size = Size {
                    cols: 30 + (n % 20) as u16,
                    rows: 5 + (n % 7) as u16,
                };
                skimmed.resize(size);
                eager.resize(size);
            }
            skimmed.feed(chunk);
            eager.feed(chunk);
            assert_same_screen(&skimmed, &eager, &format!("after chunk {n}"));
        }
    }

    #[test]
    fn a_plain_flood_is_fast_forwarded_not_parsed_whole() {
        // Per step of the model thread, a screenful or two is parsed, not the whole step.
        let size = Size { cols: 80, rows: 24 };
        let mut model = ScreenModel::new(size);
        let flood: Vec<u8> = (0..100_000)
            .flat_map(|i| format!("{i:>8} plain output line\r\n").into_bytes())
            .collect();
        for chunk in flood.chunks(STEP) {
            model.feed(chunk);
        }
        assert_eq!(model.offset(), flood.len() as u64);
        assert!(
            model.parsed() * 50 < flood.len() as u64,
            "parsed {} of {} bytes",
            model.parsed(),
            flood.len()
        );
        let mut eager = ScreenModel::eager(size, 0);
        eager.feed(&flood);
        assert_same_screen(&model, &eager, "flood");
    }
}
