//! Reading a JSON-lines file backwards: the complete lines before a line end, newest first,
//! a chunk at a time, so the newest records of a huge file are found without reading the rest.
//! Holds one chunk and one line (a line over the size limit is skipped, never held), as
//! [`crate::tail`] does forwards, and treats lines exactly as it does (a trailing `\r` is
//! dropped; an oversized line is skipped).
//!
//! Agent-neutral; used by `conversation::reader` to find the turns a page needs.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// Bytes read per step backwards.
const CHUNK: usize = 64 * 1024;

/// The offset just after the last complete line (its `\n`) of `file`, whose length is `len`
/// (0 when there is no complete line).
pub fn last_line_end(file: &mut File, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut chunk = vec![0u8; CHUNK];
    while end > 0 {
        let start = end.saturating_sub(CHUNK as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..n])?;
        if let Some(i) = memchr::memrchr(b'\n', &chunk[..n]) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Calls `on_line(line, start, end)` for each complete line of `file` that ends at or before
/// `end` (which must be a line end, or 0), newest first: the line without its newline, the
/// offset of its first byte and the offset just after its newline. Stops when `on_line`
/// returns `false` or at the file's start. Lines longer than `max_line` are skipped.
pub fn lines_backwards(
    file: &mut File,
    end: u64,
    max_line: usize,
    mut on_line: impl FnMut(&[u8], u64, u64) -> bool,
) -> io::Result<()> {
    let mut chunk = vec![0u8; CHUNK];
    // The current line: it ends at `line_end` (after its newline); `line` holds its bytes
    // found so far (those at and after `lo`), unless it is too long (`skipping`).
    let mut line: Vec<u8> = Vec::new();
    let mut skipping = false;
    let mut line_end = end;
    let mut lo = end;
    // The current line's own newline is the byte before `end`: not a separator.
    let mut own_newline = end > 0;
    while lo > 0 {
        let start = lo.saturating_sub(CHUNK as u64);
        let n = (lo - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..n])?;
        let mut k = n;
        if std::mem::take(&mut own_newline) {
            k -= 1;
        }
        while let Some(i) = memchr::memrchr(b'\n', &chunk[..k]) {
            let first = start + i as u64 + 1;
            if !skipping && line.len() + (k - i - 1) <= max_line {
                let mut whole = chunk[i + 1..k].to_vec();
                whole.extend_from_slice(&line);
                if !on_line(trim_cr(&whole), first, line_end) {
                    return Ok(());
                }
            }
            line.clear();
            skipping = false;
            line_end = first;
            k = i;
        }
        if !skipping {
            if line.len() + k <= max_line {
                line.splice(0..0, chunk[..k].iter().copied());
            } else {
                line = Vec::new();
                skipping = true;
            }
        }
        lo = start;
    }
    if line_end > 0 && !skipping {
        on_line(trim_cr(&line), 0, line_end);
    }
    Ok(())
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backwards(text: &[u8], max: usize) -> Vec<(String, u64, u64)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, text).expect("write");
        let mut file = File::open(&path).expect("open");
        let end = last_line_end(&mut file, text.len() as u64).expect("end");
        let mut out = Vec::new();
        lines_backwards(&mut file, end, max, |l, s, e| {
            out.push((String::from_utf8_lossy(l).into_owned(), s, e));
            true
        })
        .expect("read");
        out
    }

    #[test]
    fn lines_come_newest_first_with_their_offsets_and_a_partial_last_line_is_left() {
        let got = backwards(b"one\r\n\ntwo\nthree\npart", 100);
        let want = [("three", 10, 16), ("two", 6, 10), ("", 5, 6), ("one", 0, 5)];
        let want: Vec<_> = want
            .iter()
            .map(|(l, s, e)| ((*l).to_owned(), *s, *e))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn lines_longer_than_a_chunk_are_whole_and_oversized_ones_are_skipped() {
        let long = "x".repeat(CHUNK * 2 + 17);
        let huge = "y".repeat(CHUNK * 3);
        let text = format!("{long}\n{huge}\nlast\n");
        let got = backwards(text.as_bytes(), CHUNK * 2 + 100);
        let lines: Vec<_> = got.iter().map(|(l, s, e)| (l.len(), *s, *e)).collect();
        let a = long.len() as u64 + 1;
        let b = a + huge.len() as u64 + 1;
        assert_eq!(lines, [(4, b, b + 5), (long.len(), 0, a)]);
        assert_eq!(got[1].0, long);
        assert!(backwards(b"no newline", 100).is_empty());
    }
}
