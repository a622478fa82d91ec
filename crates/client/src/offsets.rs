//! Exactly-once terminal output across reconnects: the Rust twin of the UI's
//! `ui/src/lib/backend/terminal-stream.ts`.
//!
//! The host addresses every byte of a session's output by its absolute offset. [`Offsets`]
//! remembers the offset of the next byte expected and turns whatever arrives (live chunks,
//! chunks replayed after a reconnect, snapshots) into the bytes to show: overlaps trimmed,
//! duplicates dropped, a snapshot replacing the screen. A reconnect attaches with
//! [`Offsets::resume_from`].

/// The position in one session's output.
#[derive(Debug, Clone, Default)]
pub struct Offsets {
    next: Option<u64>,
    gaps: u64,
}

impl Offsets {
    /// The offset to resume from, or `None` to ask for a snapshot (first attach).
    pub fn resume_from(&self) -> Option<u64> {
        self.next
    }

    /// Starts from `offset` (an attach asked from a known position).
    pub fn starting_at(offset: Option<u64>) -> Self {
        Self {
            next: offset,
            gaps: 0,
        }
    }

    /// How many times bytes were lost (the host sent a snapshot instead, or skipped ahead).
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    /// Output starting at `offset`: the part of `bytes` not shown yet (possibly empty).
    pub fn output<'a>(&mut self, offset: u64, bytes: &'a [u8]) -> &'a [u8] {
        let end = offset + bytes.len() as u64;
        let Some(next) = self.next else {
            self.next = Some(end);
            return bytes;
        };
        if end <= next {
            return &[];
        }
        if offset > next {
            // Bytes are missing and the host did not say so with a snapshot: show what came,
            // and count it.
            self.gaps += 1;
            self.next = Some(end);
            return bytes;
        }
        self.next = Some(end);
        &bytes[(next - offset) as usize..]
    }

    /// A screen snapshot whose next byte is at `offset`; `gap` when bytes were lost.
    pub fn snapshot(&mut self, offset: u64, gap: bool) {
        if gap && self.next.is_some() {
            self.gaps += 1;
        }
        self.next = Some(offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_are_trimmed_and_duplicates_dropped() {
        let mut o = Offsets::default();
        assert_eq!(o.resume_from(), None);
        assert_eq!(o.output(10, b"abc"), b"abc");
        assert_eq!(o.resume_from(), Some(13));
        assert_eq!(o.output(10, b"abc"), b"");
        assert_eq!(o.output(12, b"cde"), b"de");
        assert_eq!(o.output(15, b"f"), b"f");
        assert_eq!(o.gaps(), 0);
        assert_eq!(o.output(20, b"x"), b"x");
        assert_eq!(o.gaps(), 1);
        o.snapshot(30, true);
        assert_eq!(o.gaps(), 2);
        assert_eq!(o.output(29, b"yz"), b"z");
    }
}
