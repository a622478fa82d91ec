//! The soak's sessions: flooding ones whose output is known at every offset (a file printed
//! over and over), idle ones that print nothing, and interactive bash shells whose output is
//! checked against the holder's own ring at the end.

use super::options::SoakOptions;
use crate::harness::{Harness, Session};
use std::sync::Arc;

/// What a session runs, and so what its output must be.
pub enum Kind {
    /// `cat FILE` in a loop: byte `i` of the output is `pattern[i % len]` (the file as the
    /// terminal prints it, `\n` turned into `\r\n`).
    Flood { pattern: Vec<u8> },
    /// `sleep`: no output at all.
    Idle,
    /// An interactive `bash`, typed into by the soak's typist.
    Shell,
}

pub struct Soaked {
    pub index: usize,
    pub session: Session,
    pub kind: Kind,
}

impl Soaked {
    /// Checks output at `offset` against what the agent prints there; `Err` says where it
    /// differs. Shells have no formula: their output is compared with the holder's ring.
    pub fn check(&self, offset: u64, data: &[u8]) -> Result<(), String> {
        match &self.kind {
            Kind::Shell => Ok(()),
            Kind::Idle if data.is_empty() => Ok(()),
            Kind::Idle => Err(format!(
                "{} bytes at offset {offset} from an agent that prints nothing",
                data.len()
            )),
            Kind::Flood { pattern } => {
                let len = pattern.len() as u64;
                let mut pos = (offset % len) as usize;
                let mut rest = data;
                let mut at = offset;
                while !rest.is_empty() {
                    let n = rest.len().min(pattern.len() - pos);
                    if rest[..n] != pattern[pos..pos + n] {
                        let i = rest[..n]
                            .iter()
                            .zip(&pattern[pos..pos + n])
                            .position(|(a, b)| a != b)
                            .unwrap_or(0);
                        return Err(format!(
                            "byte at offset {} is {:?}, the agent printed {:?}",
                            at + i as u64,
                            rest[i] as char,
                            pattern[pos + i] as char
                        ));
                    }
                    rest = &rest[n..];
                    at += n as u64;
                    pos = 0;
                }
                Ok(())
            }
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Flood { .. } => "flood",
            Kind::Idle => "idle",
            Kind::Shell => "shell",
        }
    }
}

/// Every session of the soak; cheap to clone.
#[derive(Clone)]
pub struct SessionSet(pub Arc<Vec<Soaked>>);

impl SessionSet {
    pub fn all(&self) -> impl Iterator<Item = &Soaked> {
        self.0.iter()
    }

    pub fn shells(&self) -> impl Iterator<Item = &Soaked> {
        self.0.iter().filter(|s| matches!(s.kind, Kind::Shell))
    }

    pub fn floods(&self) -> impl Iterator<Item = &Soaked> {
        self.0
            .iter()
            .filter(|s| matches!(s.kind, Kind::Flood { .. }))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Starts the sessions: a fifth flooding, a fifth shells, the rest idle.
pub fn start(h: &mut Harness, opts: &SoakOptions) -> anyhow::Result<SessionSet> {
    // 64 KiB per round, then a pause that makes the rate about `--flood-rate`.
    const ROUND: u64 = 64 * 1024;
    let file = h.text_file("soak-flood.txt", ROUND)?;
    let text = std::fs::read(&file.path)?;
    let mut pattern = Vec::with_capacity(file.tty_bytes() as usize);
    for &b in &text {
        if b == b'\n' {
            pattern.push(b'\r');
        }
        pattern.push(b);
    }
    let pause = ROUND as f64 / opts.flood_rate.max(1) as f64;
    let flood = format!(
        "while :; do cat {}; sleep {pause:.3}; done",
        file.path.display()
    );
    let floods = (opts.sessions / 5).max(1);
    let shells = (opts.sessions / 5).max(1);
    let mut out = Vec::with_capacity(opts.sessions);
    for index in 0..opts.sessions {
        let (kind, command): (Kind, Vec<&str>) = if index < floods {
            (
                Kind::Flood {
                    pattern: pattern.clone(),
                },
                vec!["sh", "-c", &flood],
            )
        } else if index < floods + shells {
            (Kind::Shell, vec!["bash", "--norc", "--noprofile", "-i"])
        } else {
            (Kind::Idle, vec!["sleep", "1000000"])
        };
        let session = h.start_session(&[], &command)?;
        out.push(Soaked {
            index,
            session,
            kind,
        });
    }
    Ok(SessionSet(Arc::new(out)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    pub(crate) fn soaked(kind: Kind) -> Soaked {
        Soaked {
            index: 0,
            session: Session {
                id: "t".into(),
                socket: PathBuf::from("/nonexistent"),
                holder_pid: 0,
                agent_pid: 0,
            },
            kind,
        }
    }

    #[test]
    fn flood_output_is_checked_at_its_offset_across_the_wrap_of_the_file() {
        let s = soaked(Kind::Flood {
            pattern: b"abc\r\n".to_vec(),
        });
        assert!(s.check(3, b"\r\nabc\r\nab").is_ok());
        assert!(s.check(12, b"c\r\na").is_ok());
        let e = s.check(12, b"c\r\nx").expect_err("a changed byte is found");
        assert!(e.contains("offset 15"), "{e}");
        assert!(
            s.check(13, b"c").is_err(),
            "the right bytes at the wrong offset"
        );
    }

    #[test]
    fn an_idle_session_may_print_nothing() {
        let s = soaked(Kind::Idle);
        assert!(s.check(0, b"").is_ok());
        assert!(s.check(7, b"x").is_err());
        assert!(soaked(Kind::Shell).check(7, b"anything").is_ok());
    }
}
