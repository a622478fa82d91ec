//! `paddock doctor`: checks what Paddock and its agents need (see `paddock_core::doctor`) and
//! says, for each, ✓ / ! / ✗ and what to do next.

use paddock_core::config::Config;
use paddock_core::doctor::{self, Inputs};
use paddock_core::login_env;
use paddock_proto::doctor::{CheckStatus, DoctorReport};

/// Check the agent CLIs, their authentication, the inherited environment, tmux, the runtime
/// directory, the supervisor, hooks, the endpoint, free disk and the open-file limit. Exits
/// with 1 when something is broken (a ✗).
#[derive(clap::Args)]
pub struct Args {
    /// Print the report as JSON (`{"status", "checks": [{"id", "title", "status", "detail",
    /// "fix"}]}`).
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let supervisor = crate::supervisor_client::status().await.ok().flatten();
        let config = Config::load(&Config::default_path());
        let data_dir = match (&supervisor, &config) {
            (Some(s), _) => s.data_dir.clone().into(),
            (None, Ok(c)) => c.data_dir(),
            (None, Err(_)) => paddock_core::paths::default_data_dir(),
        };
        let login_on = !matches!(&config, Ok(c) if !c.agents.login_env);
        let login = if login_on {
            let shell = login_env::owner_shell();
            Some(
                tokio::task::spawn_blocking(move || login_env::read(&shell, login_env::TIMEOUT))
                    .await?,
            )
        } else {
            None
        };
        let (login_env, login_env_error) = match login {
            Some(Ok(vars)) => (Some(vars), None),
            Some(Err(e)) => (None, Some(e.to_string())),
            None => (None, None),
        };
        let inputs = Inputs {
            env: std::env::vars().collect(),
            login_env,
            login_env_error,
            runtime_dir: paddock_host::dirs::runtime_dir_path(),
            data_dir,
            supervisor,
            keep_nested_env: config.as_ref().is_ok_and(|c| c.agents.keep_nested_env),
        };
        let report = tokio::task::spawn_blocking(move || doctor::run(&inputs)).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", render(&report));
        }
        let broken = report
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .map(|c| c.title.as_str())
            .collect::<Vec<_>>();
        if !broken.is_empty() {
            anyhow::bail!(
                "{} broken: {}; each ✗ above says what to do",
                if broken.len() == 1 {
                    "one check is"
                } else {
                    "some checks are"
                },
                broken.join(", ")
            );
        }
        Ok(())
    }
}

/// The report for a terminal: one line per check, its fix indented below it.
fn render(report: &DoctorReport) -> String {
    let mut out = String::new();
    for c in &report.checks {
        out.push_str(&format!("{} {}: {}\n", c.status.mark(), c.title, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("    → {fix}\n"));
        }
    }
    out
}
