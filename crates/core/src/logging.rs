//! The log set-up every Paddock program shares (the `paddock` CLI, `paddock up`, the desktop
//! app): lines to stderr, to the program's own rotating file in the data directory's `logs/`
//! ([`crate::logfile`]) and to the supervisor's bus ([`crate::loglayer`]) when it has them,
//! all filtered by `PADDOCK_LOG` (`debug`, `info,paddock_core=trace`, ...) or else the
//! configured level. The holder (`paddock-host`, which cannot depend on this crate) keeps
//! its own stderr-only set-up.
use crate::events::Bus;
use crate::logfile::{LogFile, Rotation};
use crate::loglayer::BusLayer;
use crate::Config;
use std::path::PathBuf;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Where a program's log files go: `dir/NAME.log`, rotated as [`LogFile`] says.
#[derive(Debug, Clone)]
pub struct LogFiles {
    pub dir: PathBuf,
    /// The file name without `.log`: `paddock` (the supervisor), `app` (the desktop app).
    pub name: String,
    pub rotation: Rotation,
}

impl LogFiles {
    /// `NAME.log` in the configured data directory's `logs/`, with the configured rotation.
    pub fn in_data_dir(config: &Config, name: &str) -> Self {
        Self {
            dir: config.data_dir().join("logs"),
            name: name.to_owned(),
            rotation: Rotation {
                keep_days: config.log.keep_days,
                max_file_bytes: config.log.max_file_bytes,
            },
        }
    }
}

/// What one program logs where.
#[derive(Clone)]
pub struct LogSetup {
    /// The filter when `PADDOCK_LOG` is unset or cannot be read: `warn`, `info`,
    /// `info,paddock_core=debug`.
    pub level: String,
    /// The program's own files; none: stderr only.
    pub files: Option<LogFiles>,
    /// The supervisor's bus, for clients' live tail of its log lines (info and above).
    pub bus: Option<Bus>,
}

impl LogSetup {
    /// Stderr only, at `level` unless `PADDOCK_LOG` says otherwise.
    pub fn stderr(level: &str) -> Self {
        Self {
            level: level.to_owned(),
            files: None,
            bus: None,
        }
    }

    /// Stderr and `NAME.log` in the data directory, at the configured level.
    pub fn with_files(config: &Config, name: &str) -> Self {
        Self {
            level: config.log.level.clone(),
            files: Some(LogFiles::in_data_dir(config, name)),
            bus: None,
        }
    }
}

/// Why logging could not be set up as asked.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("cannot write logs in {dir}: {source}; make the directory writable, or set data_dir in the configuration to one that is")]
    Files {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("logging was already set up in this process; the first set-up stays")]
    AlreadySet,
}

/// The filter: `env` (the value of `PADDOCK_LOG`) if set and readable, else `default`, else
/// `info`.
pub fn filter(env: Option<&str>, default: &str) -> Targets {
    env.and_then(|v| v.parse().ok())
        .or_else(|| default.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// The subscriber for `setup`, with `env` as `PADDOCK_LOG`; [`init`] installs it.
fn subscriber(
    setup: LogSetup,
    env: Option<&str>,
) -> Result<impl tracing::Subscriber + Send + Sync, LoggingError> {
    let file =
        match &setup.files {
            Some(f) => Some(LogFile::open(&f.dir, &f.name, f.rotation.clone()).map_err(
                |source| LoggingError::Files {
                    dir: f.dir.clone(),
                    source,
                },
            )?),
            None => None,
        };
    Ok(tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_target(false),
        )
        .with(file.map(|file| {
            tracing_subscriber::fmt::layer()
                .with_writer(file)
                .with_ansi(false)
        }))
        .with(setup.bus.map(BusLayer::new))
        .with(filter(env, &setup.level)))
}

/// Sets up this process's logging as `setup` says, filtered by `PADDOCK_LOG`.
pub fn init(setup: LogSetup) -> Result<(), LoggingError> {
    let env = std::env::var("PADDOCK_LOG").ok();
    subscriber(setup, env.as_deref())?
        .try_init()
        .map_err(|_| LoggingError::AlreadySet)
}

/// For a program that reads the configuration only later (the desktop app, before it starts
/// or joins the supervisor): stderr and `NAME.log` in the default configuration's data
/// directory; stderr alone if that configuration cannot be read (the program says why when
/// it reads it) or the directory cannot be written, which is logged.
pub fn init_with_default_config(name: &str) {
    let setup = match Config::load(&Config::default_path()) {
        Ok(config) => LogSetup::with_files(&config, name),
        Err(_) => LogSetup::stderr("info"),
    };
    let fallback = setup.level.clone();
    match init(setup) {
        Ok(()) => {}
        Err(e @ LoggingError::Files { .. }) => {
            let _ = init(LogSetup::stderr(&fallback));
            tracing::warn!("{e}; logging to stderr only");
        }
        Err(LoggingError::AlreadySet) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, Received};

    fn files(dir: &std::path::Path) -> LogFiles {
        LogFiles {
            dir: dir.to_owned(),
            name: "app".to_owned(),
            rotation: Rotation {
                keep_days: 30,
                max_file_bytes: 1 << 20,
            },
        }
    }

    #[test]
    fn paddock_log_overrides_the_configured_level_unless_it_cannot_be_read() {
        let debug = tracing::Level::DEBUG;
        let chatty = filter(Some("debug"), "warn");
        assert!(chatty.would_enable("paddock_core", &debug));
        let quiet = filter(Some("not a level=at all=x"), "warn");
        assert!(!quiet.would_enable("paddock_core", &tracing::Level::INFO));
        assert!(quiet.would_enable("paddock_core", &tracing::Level::WARN));
        let targeted = filter(None, "info,paddock_core=debug");
        assert!(targeted.would_enable("paddock_core", &debug));
        assert!(!targeted.would_enable("paddock_server", &debug));
        let fallback = filter(None, "=?=");
        assert!(fallback.would_enable("paddock_core", &tracing::Level::INFO));
        assert!(!fallback.would_enable("paddock_core", &debug));
    }

    #[tokio::test]
    async fn lines_reach_the_programs_own_file_and_the_bus_as_filtered() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let logs = tmp.path().join("logs");
        let bus = Bus::new();
        let mut tail = bus.subscribe();
        let setup = LogSetup {
            level: "info".to_owned(),
            files: Some(files(&logs)),
            bus: Some(bus.clone()),
        };
        let subscriber = subscriber(setup, None).expect("the log directory is writable");
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("too chatty for info");
            tracing::info!(port = 8443, "the app started");
        });
        let text = std::fs::read_to_string(logs.join("app.log")).expect("app.log written");
        assert!(text.contains("the app started port=8443"), "{text}");
        assert!(!text.contains("too chatty"), "{text}");
        match tail.recv().await {
            Received::Event(Event::LogEntry { message, .. }) => {
                assert_eq!(message, "the app started port=8443")
            }
            other => panic!("expected the log line on the bus, got {other:?}"),
        }
    }

    #[test]
    fn an_unwritable_log_directory_is_a_clear_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // A file where the directory should be.
        let blocked = tmp.path().join("logs");
        std::fs::write(&blocked, "not a directory").expect("file");
        let setup = LogSetup {
            files: Some(files(&blocked)),
            ..LogSetup::stderr("info")
        };
        let Err(e) = subscriber(setup, None) else {
            panic!("a file in place of the log directory was taken");
        };
        let message = e.to_string();
        assert!(
            message.contains(&blocked.display().to_string()),
            "{message}"
        );
        assert!(message.contains("make the directory writable"), "{message}");
    }
}
