//! Rotating log files in the data directory's `logs/`, one name per program (`paddock.log`
//! for the supervisor, `app.log` for the desktop app; see [`crate::logging`]): a new file
//! every day (the old one becomes `NAME-YYYY-MM-DD.log`, then `.log.gz` once compressed),
//! files older than `keep_days` deleted, and an emergency rotation when a file passes
//! `max_file_bytes` (`NAME-YYYY-MM-DD.N.log`), so a log storm cannot fill the disk.
//!
//! A `tracing_subscriber` writer: every event is one `write`; rotation happens on the write
//! that crosses a day or the size limit; compression and cleanup run on a short-lived thread.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Rotation settings.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub keep_days: u32,
    pub max_file_bytes: u64,
}

struct State {
    file: File,
    day: u64,
    size: u64,
}

/// A rotating log file. Cheap to clone.
#[derive(Clone)]
pub struct LogFile {
    dir: PathBuf,
    /// The file name without `.log`: `paddock` writes `paddock.log`.
    name: String,
    rotation: Rotation,
    state: Arc<Mutex<State>>,
    clock: fn() -> SystemTime,
}

fn day_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86400
}

/// `YYYY-MM-DD` of a day number since the epoch (UTC).
fn date_of(day: u64) -> String {
    let ts = UNIX_EPOCH + Duration::from_secs(day * 86400);
    humantime::format_rfc3339_seconds(ts).to_string()[..10].to_owned()
}

impl LogFile {
    /// Opens (creating) `dir/NAME.log`, rotating a file left from an earlier day first.
    pub fn open(dir: &Path, name: &str, rotation: Rotation) -> io::Result<Self> {
        Self::with_clock(dir, name, rotation, SystemTime::now)
    }

    /// For tests: a fake clock.
    pub fn with_clock(
        dir: &Path,
        name: &str,
        rotation: Rotation,
        clock: fn() -> SystemTime,
    ) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.log"));
        let file = open_append(&path)?;
        let meta = file.metadata()?;
        let day = meta
            .modified()
            .map(day_of)
            .unwrap_or_else(|_| day_of(clock()));
        let log = Self {
            dir: dir.to_owned(),
            name: name.to_owned(),
            rotation,
            state: Arc::new(Mutex::new(State {
                file,
                day,
                size: meta.len(),
            })),
            clock,
        };
        {
            let mut st = log.lock();
            if st.day != day_of(clock()) && st.size > 0 {
                log.rotate(&mut st)?;
            }
            st.day = day_of(clock());
        }
        log.cleanup_in_background();
        Ok(log)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the current file aside and starts a new one.
    fn rotate(&self, st: &mut State) -> io::Result<()> {
        let (date, name) = (date_of(st.day), &self.name);
        let mut target = self.dir.join(format!("{name}-{date}.log"));
        let mut n = 1;
        while target.exists() || target.with_extension("log.gz").exists() {
            target = self.dir.join(format!("{name}-{date}.{n}.log"));
            n += 1;
        }
        st.file.flush()?;
        let current = self.dir.join(format!("{name}.log"));
        fs::rename(&current, &target)?;
        st.file = open_append(&current)?;
        st.size = 0;
        self.cleanup_in_background();
        Ok(())
    }

    fn cleanup_in_background(&self) {
        let dir = self.dir.clone();
        let name = self.name.clone();
        let keep = self.rotation.keep_days;
        let today = day_of((self.clock)());
        let _ = std::thread::Builder::new()
            .name("log-cleanup".into())
            .spawn(move || cleanup(&dir, &name, today, keep));
    }

    fn write_line(&self, buf: &[u8]) -> io::Result<()> {
        let mut st = self.lock();
        let today = day_of((self.clock)());
        if today != st.day {
            self.rotate(&mut st)?;
            st.day = today;
        } else if st.size + buf.len() as u64 > self.rotation.max_file_bytes && st.size > 0 {
            self.rotate(&mut st)?;
        }
        st.file.write_all(buf)?;
        st.size += buf.len() as u64;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// One cleanup at a time: two must never compress the same file.
static CLEANUP: Mutex<()> = Mutex::new(());

/// Compresses the rotated files of `name` and deletes those `keep_days` or more days old (so
/// with 30, the files of today and the 29 days before stay). Other programs' files stay.
pub fn cleanup(dir: &Path, name: &str, today: u64, keep_days: u32) {
    let _one = CLEANUP.lock().unwrap_or_else(|p| p.into_inner());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(name).and_then(|r| r.strip_prefix('-')) else {
            continue;
        };
        let Some(day) = parse_day(&rest[..rest.len().min(10)]) else {
            continue;
        };
        let path = e.path();
        if today.saturating_sub(day) >= keep_days as u64 {
            let _ = fs::remove_file(&path);
        } else if file.ends_with(".log") {
            match gzip(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => eprintln!(
                    "paddock: cannot compress the old log {}: {err}; it stays uncompressed",
                    path.display()
                ),
            }
        }
    }
}

fn gzip(path: &Path) -> io::Result<()> {
    let gz = path.with_extension("log.gz");
    let tmp = path.with_extension("log.gz.tmp");
    {
        let mut input = File::open(path)?;
        let out = File::create(&tmp)?;
        let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        io::copy(&mut input, &mut enc)?;
        enc.finish()?.sync_all()?;
    }
    fs::rename(&tmp, &gz)?;
    fs::remove_file(path)
}

/// `YYYY-MM-DD` to a day number since the epoch.
fn parse_day(s: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339(&format!("{s}T00:00:00Z")).ok()?;
    Some(day_of(t))
}

/// One `write` per log event, as `tracing_subscriber` does.
pub struct LineWriter(LogFile);

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFile {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    static NOW: AtomicU64 = AtomicU64::new(20_000 * 86400);
    fn clock() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW.load(Ordering::SeqCst))
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".tmp"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rotates_daily_compresses_old_days_deletes_past_keep_and_caps_size() {
        let tmp = tempfile::tempdir().expect("tmp");
        let rot = Rotation {
            keep_days: 3,
            max_file_bytes: 100,
        };
        NOW.store(20_000 * 86400 + 10, Ordering::SeqCst);
        let log = LogFile::with_clock(tmp.path(), "paddock", rot, clock).expect("open");
        let mut w = LineWriter(log.clone());
        w.write_all(b"day one\n").expect("write");
        NOW.store(20_001 * 86400 + 10, Ordering::SeqCst);
        w.write_all(b"day two\n").expect("write");
        // Past the size limit on the same day: an emergency rotation.
        w.write_all(&[b'x'; 99]).expect("write");
        let d1 = date_of(20_000);
        let d2 = date_of(20_001);
        // Another program's log in the same directory (the desktop app's).
        fs::write(tmp.path().join(format!("app-{d1}.log")), "the app's\n").expect("app log");
        cleanup(tmp.path(), "paddock", 20_001, 3);
        assert_eq!(
            names(tmp.path()),
            vec![
                format!("app-{d1}.log"),
                format!("paddock-{d1}.log.gz"),
                format!("paddock-{d2}.log.gz"),
                "paddock.log".to_owned()
            ]
        );
        // Three days after the first day, it is past keep_days and goes.
        cleanup(tmp.path(), "paddock", 20_003, 3);
        assert_eq!(
            names(tmp.path()),
            vec![
                format!("app-{d1}.log"),
                format!("paddock-{d2}.log.gz"),
                "paddock.log".to_owned()
            ],
            "the supervisor's cleanup left the app's file alone"
        );
        cleanup(tmp.path(), "app", 20_003, 3);
        assert!(!names(tmp.path()).contains(&format!("app-{d1}.log")));
        let mut gz = flate2::read::GzDecoder::new(
            File::open(tmp.path().join(format!("paddock-{d2}.log.gz"))).expect("gz"),
        );
        let mut text = String::new();
        io::Read::read_to_string(&mut gz, &mut text).expect("gunzip");
        assert_eq!(text, "day two\n");
    }
}
