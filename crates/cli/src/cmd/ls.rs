//! `paddock ls`: every session with its state.

use paddock_host::sessions;
use paddock_proto::{SessionInfo, SessionState};
use std::time::SystemTime;

/// List sessions: id, name, state, pid, attached clients, age, command and directory.
#[derive(clap::Args)]
pub struct Args {
    /// Print a JSON array of objects with the fields id, name, command, cwd, pid, state,
    /// exit_code, started_at, clients.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let dir = paddock_host::runtime_dir()?;
        let all = sessions::list(&dir).await;
        if self.json {
            let rows: Vec<_> = all.iter().map(SessionInfo::summary).collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(());
        }
        if all.is_empty() {
            println!("No sessions. Start one with `paddock run -- CMD`.");
            return Ok(());
        }
        print!("{}", table(&all, SystemTime::now()));
        Ok(())
    }
}

fn table(all: &[SessionInfo], now: SystemTime) -> String {
    let rows: Vec<[String; 8]> = all
        .iter()
        .map(|s| {
            let state = match s.state {
                SessionState::Running => "running".to_owned(),
                SessionState::Exited => match (&s.exit_signal, s.exit_code) {
                    (Some(sig), _) => format!("exited (SIG{sig})"),
                    (None, Some(c)) => format!("exited ({c})"),
                    (None, None) => "exited".to_owned(),
                },
            };
            [
                s.id.to_string(),
                s.name.clone(),
                state,
                s.pid.to_string(),
                s.clients.to_string(),
                age(&s.started_at, now),
                s.command_line(),
                s.cwd.clone(),
            ]
        })
        .collect();
    let header = [
        "ID", "NAME", "STATE", "PID", "CLIENTS", "AGE", "COMMAND", "CWD",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[&str], out: &mut String| {
        let last = cells.len() - 1;
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.push('\n');
    };
    line(&header, &mut out);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&cells, &mut out);
    }
    out
}

/// `42s`, `5m`, `3h`, `2d` since an RFC 3339 time.
fn age(started: &str, now: SystemTime) -> String {
    let Ok(t) = humantime::parse_rfc3339(started) else {
        return "?".to_owned();
    };
    let secs = now.duration_since(t).map(|d| d.as_secs()).unwrap_or(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ages_read_like_people_say_them() {
        let start = "2026-11-22T02:00:00Z";
        let t0 = humantime::parse_rfc3339(start).expect("valid");
        assert_eq!(age(start, t0 + Duration::from_secs(42)), "42s");
        assert_eq!(age(start, t0 + Duration::from_secs(3 * 3600 + 5)), "3h");
        assert_eq!(age("garbage", t0), "?");
    }
}
