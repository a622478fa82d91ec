//! The output ring: the last N bytes of a session's output, addressed by absolute offset.
//!
//! Offset 0 is the first byte the agent ever wrote; `end()` is the offset the next byte will
//! get. Bytes older than `end() - capacity` are gone. Written by the PTY reader thread, read by
//! every client task and the model thread, always under the holder's lock and never across an
//! `.await`.

/// A fixed-capacity byte ring with absolute offsets.
#[derive(Debug)]
pub struct Ring {
    buf: Vec<u8>,
    capacity: usize,
    /// Absolute offset of the next byte to be written.
    end: u64,
}

/// Where a requested offset stands relative to the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Still in the ring (or exactly at its end).
    Available,
    /// Overwritten: the oldest byte still held is at `start`.
    Gone { start: u64 },
    /// Past the end: those bytes were never written.
    Future { end: u64 },
}

impl Ring {
    /// A ring holding up to `capacity` bytes (at least 1). Memory grows as output arrives,
    /// up to `capacity`.
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: Vec::new(),
            capacity: capacity.max(1),
            end: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The offset the next byte will get.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The oldest offset still held.
    pub fn start(&self) -> u64 {
        self.end - self.len() as u64
    }

    fn len(&self) -> usize {
        (self.end.min(self.capacity as u64)) as usize
    }

    fn index(&self, offset: u64) -> usize {
        (offset % self.capacity as u64) as usize
    }

    /// Appends bytes, overwriting the oldest when full.
    pub fn push(&mut self, mut data: &[u8]) {
        if data.len() > self.capacity {
            let skip = data.len() - self.capacity;
            self.end += skip as u64;
            data = &data[skip..];
        }
        while !data.is_empty() {
            let at = self.index(self.end);
            if self.buf.len() < self.capacity {
                if self.end == self.buf.len() as u64 {
                    // Still growing: append up to capacity.
                    let n = data.len().min(self.capacity - self.buf.len());
                    self.buf.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    self.end += n as u64;
                    continue;
                }
                // A push larger than the ring skipped ahead: it overwrites everything.
                self.buf.resize(self.capacity, 0);
            }
            let n = data.len().min(self.capacity - at);
            self.buf[at..at + n].copy_from_slice(&data[..n]);
            data = &data[n..];
            self.end += n as u64;
        }
    }

    /// Where `offset` stands.
    pub fn position(&self, offset: u64) -> Position {
        if offset > self.end {
            Position::Future { end: self.end }
        } else if offset < self.start() {
            Position::Gone {
                start: self.start(),
            }
        } else {
            Position::Available
        }
    }

    /// Up to `max` bytes from `offset` as at most two slices (the ring may wrap), or the
    /// offset's position when it is not available.
    pub fn slices_from(&self, offset: u64, max: usize) -> Result<(&[u8], &[u8]), Position> {
        match self.position(offset) {
            Position::Available => {}
            other => return Err(other),
        }
        let n = ((self.end - offset) as usize).min(max);
        if n == 0 {
            return Ok((&[], &[]));
        }
        let at = self.index(offset);
        let first = n.min(self.buf.len() - at);
        Ok((&self.buf[at..at + first], &self.buf[..n - first]))
    }

    /// Copies up to `max` bytes from `offset` into `out`; returns how many.
    pub fn copy_from(&self, offset: u64, max: usize, out: &mut Vec<u8>) -> Result<usize, Position> {
        let (a, b) = self.slices_from(offset, max)?;
        out.extend_from_slice(a);
        out.extend_from_slice(b);
        Ok(a.len() + b.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(ring: &Ring, from: u64) -> Vec<u8> {
        let mut out = Vec::new();
        ring.copy_from(from, usize::MAX, &mut out)
            .expect("available");
        out
    }

    #[test]
    fn keeps_the_last_capacity_bytes_by_absolute_offset() {
        let mut ring = Ring::new(10);
        ring.push(b"hello");
        assert_eq!((ring.start(), ring.end()), (0, 5));
        ring.push(b" world!!");
        assert_eq!((ring.start(), ring.end()), (3, 13));
        assert_eq!(read_all(&ring, 3), b"lo world!!");
        assert_eq!(read_all(&ring, 8), b"rld!!");
        assert_eq!(ring.position(2), Position::Gone { start: 3 });
        assert_eq!(ring.position(14), Position::Future { end: 13 });
        assert_eq!(read_all(&ring, 13), b"");
    }

    #[test]
    fn a_push_larger_than_the_ring_keeps_its_tail() {
        let mut ring = Ring::new(4);
        ring.push(b"abcdefghij");
        assert_eq!((ring.start(), ring.end()), (6, 10));
        assert_eq!(read_all(&ring, 6), b"ghij");
    }

    #[test]
    fn matches_a_reference_model_under_random_pushes() {
        let mut ring = Ring::new(97);
        let mut all = Vec::new();
        let mut x: u64 = 12345;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (x >> 33) as usize % 150;
            let data: Vec<u8> = (0..n).map(|i| (all.len() + i) as u8).collect();
            ring.push(&data);
            all.extend_from_slice(&data);
            let start = ring.start() as usize;
            assert_eq!(start, all.len().saturating_sub(97));
            let from = start + (x as usize % (all.len() - start + 1));
            assert_eq!(read_all(&ring, from as u64), &all[from..]);
        }
    }

    #[test]
    fn reads_are_bounded_by_max() {
        let mut ring = Ring::new(8);
        ring.push(b"0123456789");
        let mut out = Vec::new();
        assert_eq!(ring.copy_from(2, 3, &mut out), Ok(3));
        assert_eq!(out, b"234");
    }
}
