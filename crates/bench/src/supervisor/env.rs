//! The private environment of the supervisor measurements: runtime, data, config and
//! `TMUX_TMPDIR` directories of their own, and the copy of /bin/sleep named `claude` that
//! every session runs; commands started with exactly that environment.

use super::TMUX_NAME;
use crate::harness::Harness;
use anyhow::Context;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directories and the agent binary every supervisor and session here shares.
pub(crate) struct Env {
    /// The harness's runtime directory: holders' sockets and the supervisor's.
    pub(super) runtime: PathBuf,
    data: PathBuf,
    pub(crate) config: PathBuf,
    /// `TMUX_TMPDIR`: our tmux server's socket is `<this>/tmux-<uid>/pdb`.
    tmux_tmpdir: PathBuf,
    /// A copy of /bin/sleep named `claude`.
    pub(super) claude: PathBuf,
}

impl Env {
    /// The directories under the harness's, their names prefixed with `prefix` (so that
    /// two measurements of one run do not share them).
    pub(crate) fn new(h: &Harness, prefix: &str) -> anyhow::Result<Self> {
        let dir = h.dir();
        let sub = |name: &str| -> anyhow::Result<PathBuf> {
            let path = dir.join(format!("{prefix}{name}"));
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            Ok(path)
        };
        let bin = sub("bin")?;
        let claude = bin.join("claude");
        fs::copy("/bin/sleep", &claude).context("cannot copy /bin/sleep")?;
        Ok(Self {
            runtime: dir.to_owned(),
            data: sub("data")?,
            config: sub("config")?,
            tmux_tmpdir: sub("tmux")?,
            claude,
        })
    }

    pub(crate) fn socket(&self) -> PathBuf {
        paddock_socket(&self.runtime)
    }

    /// A command with exactly our environment: none of the caller's `PADDOCK_*` settings.
    pub(super) fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PADDOCK_") {
                cmd.env_remove(&key);
            }
        }
        cmd.env_remove("TMUX")
            .env("PADDOCK_RUNTIME_DIR", &self.runtime)
            .env("PADDOCK_DATA_DIR", &self.data)
            .env("PADDOCK_CONFIG_DIR", &self.config)
            .env("TMUX_TMPDIR", &self.tmux_tmpdir);
        cmd
    }

    pub(super) fn tmux(&self) -> Command {
        let mut cmd = self.command(Path::new("tmux"));
        cmd.args(["-L", TMUX_NAME, "-f", "/dev/null"]);
        cmd
    }
}

fn paddock_socket(runtime: &Path) -> PathBuf {
    runtime.join("_supervisor.sock")
}
