//! Reading an append-only JSON-lines file incrementally: from a byte offset to the last
//! complete line, never holding more than one line (and never a line over the size limit),
//! noticing a file that was truncated or replaced.
//!
//! Agent-neutral; used by the live transcript readers and the history indexer.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Lines longer than this are skipped (counted), never held in memory: 8 MiB. Claude Code
/// writes an image read by a tool as base64 inside one line; such lines carry nothing
/// Paddock shows.
pub const DEFAULT_MAX_LINE: usize = 8 * 1024 * 1024;

/// How many bytes of a file's start identify it.
const HEAD_LEN: usize = 64;

/// Where a reader is in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailPosition {
    pub dev: u64,
    pub ino: u64,
    /// Everything before this was consumed, up to the end of a line.
    pub offset: u64,
    /// The file's first bytes (up to 64) when last read.
    pub head: Vec<u8>,
    /// Inside a line over the limit: the bytes up to its end are skipped.
    pub skipping: bool,
}

/// What one read did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOutcome {
    /// Complete lines handed to the callback.
    pub lines: u64,
    /// Lines skipped for being over the limit.
    pub oversized: u64,
    /// Bytes consumed.
    pub bytes: u64,
    /// The file was replaced, or is shorter than the offset, or its start changed: the
    /// position was reset and the file read from its start. The caller must drop what it
    /// derived from the old content.
    pub reset: bool,
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

impl TailPosition {
    /// The position `offset` (a line's start) in the open `file`, with the file's identity
    /// and first bytes, so that a read from there notices a replaced file.
    pub fn at(file: &mut File, offset: u64) -> io::Result<TailPosition> {
        let (dev, ino) = identity(&file.metadata()?);
        Ok(TailPosition {
            dev,
            ino,
            offset,
            head: read_head(file)?,
            skipping: false,
        })
    }
}

fn read_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    file.seek(SeekFrom::Start(0))?;
    file.by_ref().take(HEAD_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Reads the complete lines of `path` after `pos`, calling `on_line(line, end_offset)` for
/// each (without its newline; `end_offset` is the offset just after it), and advances `pos`.
/// A last line without its newline is left for the next call. Stops after about `budget`
/// bytes (at a line's end) so that one huge file cannot hold up other work; call again while
/// [`ReadOutcome::bytes`] is not 0.
pub fn read_new_lines(
    path: &Path,
    pos: &mut TailPosition,
    max_line: usize,
    budget: u64,
    mut on_line: impl FnMut(&[u8], u64),
) -> io::Result<ReadOutcome> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let (dev, ino) = identity(&meta);
    let len = meta.len();
    let mut out = ReadOutcome::default();
    let head = read_head(&mut file)?;
    let same_file = pos.dev == dev && pos.ino == ino;
    let head_matches = {
        let n = pos.head.len().min(head.len());
        pos.head[..n] == head[..n] && (pos.head.len() <= head.len())
    };
    if pos.offset > 0 && (!same_file || len < pos.offset || !head_matches) {
        *pos = TailPosition::default();
        out.reset = true;
    }
    pos.dev = dev;
    pos.ino = ino;
    pos.head = head;
    if len == pos.offset {
        return Ok(out);
    }
    file.seek(SeekFrom::Start(pos.offset))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line: Vec<u8> = Vec::new();
    let mut consumed = pos.offset;
    let mut skipping = pos.skipping;
    // Bytes of the current (incomplete) line taken from the reader so far.
    let mut pending = 0u64;
    loop {
        if consumed - pos.offset >= budget && pending == 0 {
            break;
        }
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                let end = consumed + pending + i as u64 + 1;
                if skipping {
                    skipping = false;
                    out.oversized += 1;
                } else if line.is_empty() {
                    if line_fits(i, max_line) {
                        on_line(trim_cr(&buf[..i]), end);
                        out.lines += 1;
                    } else {
                        out.oversized += 1;
                    }
                } else if line_fits(line.len() + i, max_line) {
                    line.extend_from_slice(&buf[..i]);
                    on_line(trim_cr(&line), end);
                    out.lines += 1;
                } else {
                    out.oversized += 1;
                }
                line.clear();
                reader.consume(i + 1);
                consumed = end;
                pending = 0;
            }
            None => {
                let n = buf.len();
                if !skipping {
                    if line_fits(line.len() + n, max_line) {
                        line.extend_from_slice(buf);
                    } else {
                        line = Vec::new();
                        skipping = true;
                    }
                }
                reader.consume(n);
                pending += n as u64;
            }
        }
    }
    // An oversized line still being written: skip what is there already, so it is never
    // read twice; a normal partial line is left for the next call.
    if skipping && pending > 0 {
        consumed += pending;
    }
    pos.skipping = skipping;
    out.bytes = consumed - pos.offset;
    pos.offset = consumed;
    Ok(out)
}

fn line_fits(len: usize, max: usize) -> bool {
    len <= max
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(path: &Path, pos: &mut TailPosition, max: usize) -> (Vec<String>, ReadOutcome) {
        let mut lines = Vec::new();
        let out = read_new_lines(path, pos, max, u64::MAX, |l, _| {
            lines.push(String::from_utf8_lossy(l).into_owned())
        })
        .expect("read");
        (lines, out)
    }

    #[test]
    fn a_partial_last_line_waits_for_its_end_and_nothing_is_read_twice() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "one\ntwo\nthr").expect("write");
        let mut pos = TailPosition::default();
        let (lines, out) = collect(&path, &mut pos, 100);
        assert_eq!(lines, vec!["one", "two"]);
        assert_eq!(pos.offset, 8);
        assert!(!out.reset);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b"ee\r\nfour\n").expect("append");
        let (lines, _) = collect(&path, &mut pos, 100);
        assert_eq!(lines, vec!["three", "four"]);
        let (lines, out) = collect(&path, &mut pos, 100);
        assert!(lines.is_empty());
        assert_eq!(out.bytes, 0);
    }

    #[test]
    fn oversized_lines_are_skipped_even_while_being_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        let big = "x".repeat(300);
        std::fs::write(&path, format!("a\n{big}")).expect("write");
        let mut pos = TailPosition::default();
        let (lines, _) = collect(&path, &mut pos, 100);
        assert_eq!(lines, vec!["a"]);
        assert!(pos.skipping);
        assert_eq!(pos.offset, 302, "the big line's bytes are not read again");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(format!("{big}\nb\n").as_bytes())
            .expect("append");
        let (lines, out) = collect(&path, &mut pos, 100);
        assert_eq!(lines, vec!["b"]);
        assert_eq!(out.oversized, 1);
        assert!(!pos.skipping);
    }

    #[test]
    fn a_truncated_or_replaced_file_is_read_again_from_its_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "one\ntwo\n").expect("write");
        let mut pos = TailPosition::default();
        collect(&path, &mut pos, 100);
        std::fs::write(&path, "new\n").expect("truncate");
        let (lines, out) = collect(&path, &mut pos, 100);
        assert!(out.reset);
        assert_eq!(lines, vec!["new"]);
        // Replaced by another file (rotation) of the same length or longer.
        let other = dir.path().join("u.jsonl");
        std::fs::write(&other, "NEW\nmore\nlines\n").expect("write");
        std::fs::rename(&other, &path).expect("rename");
        let (lines, out) = collect(&path, &mut pos, 100);
        assert!(out.reset);
        assert_eq!(lines, vec!["NEW", "more", "lines"]);
    }

    #[test]
    fn a_budget_stops_at_a_line_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "aaaa\nbbbb\ncccc\n").expect("write");
        let mut pos = TailPosition::default();
        let mut lines = Vec::new();
        let out = read_new_lines(&path, &mut pos, 100, 6, |l, end| {
            lines.push((String::from_utf8_lossy(l).into_owned(), end))
        })
        .expect("read");
        assert_eq!(out.lines, 2);
        assert_eq!(lines, vec![("aaaa".into(), 5), ("bbbb".into(), 10)]);
        assert_eq!(pos.offset, 10);
    }
}
