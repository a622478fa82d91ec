//! `paddock history`: every agent session this machine has kept a transcript of, and a search
//! over what was said in them.

use crate::supervisor_client::request;
use anyhow::bail;
use paddock_proto::{Request, Response};

/// List past agent sessions (most recent first), or search their prompts and answers.
#[derive(clap::Args)]
pub struct Args {
    /// Words to search for, all of which must appear (taken literally); `"exact phrase"`,
    /// `word*` (a prefix) and `a OR b` also work.
    pub search: Vec<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 30)]
    pub limit: u32,
    /// One JSON array.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let search = (!self.search.is_empty()).then(|| self.search.join(" "));
        let (sessions, hits) = match request(Request::History {
            search: search.clone(),
            limit: self.limit,
        })
        .await?
        {
            Response::History { sessions, hits } => (sessions, hits),
            other => bail!("the supervisor answered {other:?} to history"),
        };
        if self.json {
            let out = if search.is_some() {
                serde_json::to_string_pretty(&hits)?
            } else {
                serde_json::to_string_pretty(&sessions)?
            };
            println!("{out}");
            return Ok(());
        }
        if search.is_some() {
            let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
            if hits.is_empty() {
                println!("nothing in the history matches");
            }
            for h in hits {
                println!(
                    "{} [{}] {}\n    {}",
                    h.title.or(h.session_id).unwrap_or_default(),
                    h.role,
                    h.cwd.unwrap_or_default(),
                    marked(&h.snippet, tty)
                );
            }
            return Ok(());
        }
        if sessions.is_empty() {
            println!("no agent history yet (the supervisor indexes ~/.claude/projects and Codex's sessions)");
        }
        for s in sessions {
            println!(
                "{:<7} {:<40} {:>8} tok  ${:<7.2} {}",
                s.agent,
                s.title
                    .or(s.first_prompt)
                    .unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect::<String>(),
                s.tokens_in + s.tokens_out,
                s.cost_usd,
                s.cwd.unwrap_or_default()
            );
        }
        Ok(())
    }
}

/// A snippet's matched terms (between U+0002 and U+0003) in bold on a terminal, else in
/// brackets.
fn marked(snippet: &str, tty: bool) -> String {
    let (open, close) = if tty {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    snippet
        .replace(paddock_proto::agent::SNIPPET_MARKS.0, open)
        .replace(paddock_proto::agent::SNIPPET_MARKS.1, close)
}
