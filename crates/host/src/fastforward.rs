//! Fast-forward through a flood of plain text: the screen model's shortcut, exact by
//! construction.
//!
//! Parsing every byte of a flood (`cat` of a big file, a chatty build) into the screen model
//! cost more CPU than the rest of the holder together, yet a screen shows only its last
//! rows. Within a *plain run* (printable ASCII, `\t`, `\r`, `\n`: nothing that moves the
//! cursor up or changes a mode) with at least `2 × rows` line feeds, the screen at the end
//! of the run does not depend on the first part of it, provided the parser is in its ground
//! state when the run starts and scrolling covers the whole screen:
//!
//! - after `rows` line feeds the cursor is on the bottom row, whatever row it started on;
//! - after a `\r\n` it is in column 0;
//! - the `rows` line feeds after that scroll every earlier row off the screen (the model
//!   keeps no scrollback).
//!
//! So the model may replace the first part of such a run, up to a `\r\n` that has `rows`
//! line feeds on both sides, by `\r` and `rows` line feeds (which put the cursor where the
//! skipped text would have, and leave nothing that stays visible), then parse the rest.
//!
//! The two conditions are proven, never assumed: a second, bare VT parser ([`vte`], the
//! one inside `vt100`) is fed exactly the bytes the model parses, and [`Watch`] records
//! what matters in it: whether it printed a character (only a parser in its ground state
//! prints, and plain bytes never leave it) and whether a scrolling region smaller than the
//! screen may be in force (any `CSI r` that is not the full screen, until a full reset).

/// Whether `b` can be part of a plain run.
pub(crate) fn is_plain(b: u8) -> bool {
    matches!(b, b' '..=b'~' | b'\t' | b'\r' | b'\n')
}

/// Every byte of a word is printable ASCII (`' '..='~'`): no byte below 0x20 and none above
/// 0x7E, tested on all eight at once (the "has less" and "has more" tests of Bit Twiddling
/// Hacks, exact as yes-or-no answers).
fn all_printable(w: u64) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let below = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    // "Has more than n": add 127 - n to each byte (n = 0x7E: add one), then its high bit.
    let above = (w.wrapping_add(ONES) | w) & HIGH;
    below | above == 0
}

/// Where the first byte that is not [`is_plain`] is, if any. In a flood this scan sees every
/// byte the model skims, so it tests eight at a time; a word with a tab or a line end in it
/// is looked at byte by byte.
pub(crate) fn first_not_plain(bytes: &[u8]) -> Option<usize> {
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let w = u64::from_le_bytes([
            word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
        ]);
        if !all_printable(w) {
            if let Some(i) = word.iter().position(|&b| !is_plain(b)) {
                return Some(at + i);
            }
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| !is_plain(b))
        .map(|i| at + i)
}

/// What the watching parser saw. Feed it the same bytes as the model, in the same order.
pub(crate) struct Watch {
    parser: vte::Parser,
    seen: Seen,
}

struct Seen {
    rows: u16,
    printed: bool,
    /// A scrolling region other than the whole screen may be in force.
    region: bool,
}

impl vte::Perform for Seen {
    fn print(&mut self, _c: char) {
        self.printed = true;
    }

    fn csi_dispatch(
        &mut self,
        params: &vte::Params,
        intermediates: &[u8],
        _ignore: bool,
        action: char,
    ) {
        if action != 'r' || !intermediates.is_empty() {
            return;
        }
        // As vt100 reads DECSTBM: 0 or absent means the first or the last row.
        let mut it = params.iter().map(|p| p.first().copied().unwrap_or(0));
        let top = it.next().unwrap_or(0);
        let bottom = it.next().unwrap_or(0);
        let whole = top <= 1 && (bottom == 0 || bottom >= self.rows);
        if !whole {
            self.region = true;
        }
    }

    fn esc_dispatch(&mut self, intermediates: &[u8], _ignore: bool, byte: u8) {
        // RIS: a full reset puts both screens' regions back to the whole screen.
        if byte == b'c' && intermediates.is_empty() {
            self.region = false;
        }
    }
}

impl Watch {
    pub(crate) fn new(rows: u16) -> Self {
        Self {
            parser: vte::Parser::new(),
            seen: Seen {
                rows,
                printed: false,
                region: false,
            },
        }
    }

    /// Sees the bytes the model parsed; returns whether a character was printed in them.
    pub(crate) fn advance(&mut self, bytes: &[u8]) -> bool {
        self.seen.printed = false;
        self.parser.advance(&mut self.seen, bytes);
        self.seen.printed
    }

    pub(crate) fn set_rows(&mut self, rows: u16) {
        self.seen.rows = rows;
    }

    /// Whether a scrolling region smaller than the screen may be in force.
    pub(crate) fn region(&self) -> bool {
        self.seen.region
    }
}

/// Where a plain run may be fast-forwarded to: the position just after a `\r\n` with at
/// least `rows` line feeds before it (within the run) and at least `rows` after it. `None`
/// when the run is too short (or its lines do not end in `\r\n` there).
pub(crate) fn skip_point(run: &[u8], rows: usize) -> Option<usize> {
    if rows == 0 || run.len() < 4 * rows {
        return None;
    }
    let mut back = memchr::memrchr_iter(b'\n', run);
    // The last `rows` line feeds stay after the skip point.
    for _ in 0..rows {
        back.next()?;
    }
    // A few tries for a line feed that follows a carriage return.
    for _ in 0..4 {
        let lf = back.next()?;
        if lf >= 1
            && run[lf - 1] == b'\r'
            && memchr::memchr_iter(b'\n', &run[..=lf]).take(rows).count() == rows
        {
            return Some(lf + 1);
        }
    }
    None
}

/// What replaces the skipped part of a run: the cursor to the bottom row, column 0.
pub(crate) fn substitute(rows: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows + 1);
    out.push(b'\r');
    out.resize(rows + 1, b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("line {i}\r\n").into_bytes())
            .collect()
    }

    #[test]
    fn the_word_scan_finds_the_same_byte_as_a_byte_by_byte_scan() {
        let slow = |b: &[u8]| b.iter().position(|&c| !is_plain(c));
        // Every byte value at every position of a word, among plain text.
        let text = b"plain text\r\n\tmore words";
        for v in 0..=255u8 {
            for pos in 0..text.len() {
                let mut b = text.to_vec();
                b[pos] = v;
                assert_eq!(first_not_plain(&b), slow(&b), "byte {v:#x} at {pos}");
            }
        }
        // Random mixes, weighted to the edges of the printable range.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..300 {
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let edges = [
                        0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, 0x00, b'\r', b'\n', b'\t',
                    ];
                    if x.is_multiple_of(8) {
                        edges[(x >> 8) as usize % edges.len()]
                    } else {
                        b' ' + (x >> 16) as u8 % 95
                    }
                })
                .collect();
            assert_eq!(first_not_plain(&b), slow(&b), "{b:?}");
        }
        assert_eq!(first_not_plain(b""), None);
    }

    #[test]
    fn the_skip_point_leaves_rows_line_feeds_on_each_side() {
        let run = lines(10);
        let q = skip_point(&run, 3).expect("long enough");
        let count = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count();
        assert_eq!(count(&run[q..]), 3);
        assert!(count(&run[..q]) >= 3);
        assert_eq!(&run[q - 2..q], b"\r\n");
        assert_eq!(skip_point(&lines(5), 3), None, "5 lines cannot hold 3 + 3");
    }

    #[test]
    fn bare_line_feeds_are_no_skip_point() {
        let run: Vec<u8> = (0..20).flat_map(|_| b"abc\n".to_vec()).collect();
        assert_eq!(skip_point(&run, 3), None);
    }

    #[test]
    fn the_watch_sees_prints_and_scrolling_regions() {
        let mut w = Watch::new(24);
        assert!(w.advance(b"a"));
        assert!(!w.advance(b"\x1b]0;title"), "inside an OSC nothing prints");
        assert!(!w.advance(b"still the title\r\n"));
        assert!(w.advance(b"\x07now text"));
        w.advance(b"\x1b[r\x1b[1;24r");
        assert!(!w.region(), "the whole screen is no region");
        w.advance(b"\x1b[2;10r");
        assert!(w.region());
        w.advance(b"\x1bc");
        assert!(!w.region(), "a full reset clears it");
    }
}
