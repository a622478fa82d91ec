//! What the supervisor (`paddock up`) costs while nothing happens, and how fast it finds its
//! sessions again after a `kill -9`.
//!
//! Sessions are holders (`paddock run --no-hooks -- claude 100000`, where `claude` is a copy of
//! /bin/sleep so that it counts as an agent) and panes of one private tmux server running the
//! same copy, 80 % / 20 %. The supervisor runs with a private runtime, data and config
//! directory and a private `TMUX_TMPDIR`, so it sees exactly the sessions started here (and
//! any agent the machine runs outside a terminal Paddock knows, which it lists as external).
//! It starts a bridge (a holder mirroring the pane) for every agent pane it finds; what the
//! bridges cost is reported apart from the supervisor's own figures.
//!
//! 1. Idle cost at 50 sessions, then at 200 (a fresh supervisor each time): once its session
//!    list holds every holder and pane, 5 s to settle, then a window of `--window` seconds.
//!    CPU is utime + stime of the supervisor from `/proc/<pid>/stat`; what the children it
//!    started and reaped (`tmux list-panes`) used is cutime + cstime, reported apart, as is
//!    the CPU the tmux server spent meanwhile (answering those calls). Memory is VmRSS each
//!    second (the maximum is the figure) and VmHWM, the peak since start.
//! 2. Re-adoption, between the two: with 50 holders, `kill -9` the supervisor, start it again
//!    and time from that spawn until its session list has all 50 holders with their agents'
//!    pids; five times. Every holder and agent must stay alive throughout.

use crate::harness::{process_alive, sessions_in, Cleanup, Harness, Session};
use crate::options::Options;
use crate::procfs::{self, CpuTimes};
use crate::report::{load_average, percentile, Report, Row};
use anyhow::{bail, Context};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use paddock_host::client::Requester;
use paddock_proto::supervisor::{Backend, SessionView, SupervisorStatus};
use paddock_proto::{Hello, Mode, Request, Response};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Session counts of the two idle windows.
const SMALL: usize = 50;
const LARGE: usize = 200;
/// Sessions with holders in the re-adoption runs.
const READOPT_HOLDERS: usize = 50;
const RESTARTS: usize = 5;
/// Quiet time between "every session is listed" and the window.
const SETTLE: Duration = Duration::from_secs(5);
/// How long the supervisor may take to list every session it was started with.
const LIST_LIMIT: Duration = Duration::from_secs(60);
/// How long a restarted supervisor may take to list the holders again (the target is 1 s).
const READOPT_LIMIT: Duration = Duration::from_secs(15);
/// Targets: percent of one core, and bytes (MB = 10⁶ bytes).
const TARGET_SMALL: (f64, u64) = (0.5, 64_000_000);
const TARGET_LARGE: (f64, u64) = (2.0, 128_000_000);
const TARGET_READOPT: Duration = Duration::from_secs(1);
/// USER_HZ: the unit of the times in `/proc/<pid>/stat`, 100 on every Linux.
pub(crate) const TICKS_PER_SEC: f64 = 100.0;
/// The tmux server's name (`-L`), also the name the supervisor gives its sessions.
const TMUX_NAME: &str = "pdb";

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    let secs = opts.window.as_secs();
    eprintln!(
        "supervisor: idle windows of {secs} s at {SMALL} and {LARGE} sessions, {RESTARTS} restarts after kill -9"
    );
    let mut fleet = Fleet::default();
    let result = measure(h, rt, opts, &mut fleet, report);
    // Everything started here goes now, so that nothing that runs next shares the machine
    // with 200 holders; the harness would only kill them at the very end.
    fleet.stop(h);
    if let Err((figure, e)) = result {
        report.fail(figure, &e);
    }
}

/// Runs the three parts in turn, adding each one's rows as soon as it is measured; the
/// error names the figure that could not be measured.
fn measure(
    h: &mut Harness,
    rt: &Runtime,
    opts: &Options,
    fleet: &mut Fleet,
    report: &mut Report,
) -> Result<(), (&'static str, anyhow::Error)> {
    let env = Env::new(h, "").map_err(|e| ("Supervisor", e))?;
    let panes = |n: usize| if opts.tmux { n / 5 } else { 0 };
    // The JSON, recorded again after each part so that a later failure keeps what was measured.
    let mut json = serde_json::Map::new();
    json.insert("window_secs".into(), json!(opts.window.as_secs()));
    json.insert("settle_secs".into(), json!(SETTLE.as_secs()));

    let small_fig = "Supervisor idle, 50 sessions";
    fleet
        .grow(h, &env, SMALL - panes(SMALL), panes(SMALL))
        .map_err(|e| (small_fig, e))?;
    let mut sup = Supervisor::spawn(h, &env).map_err(|e| (small_fig, e))?;
    let small = rt
        .block_on(idle_window(&sup, &env, fleet, opts.window))
        .map_err(|e| (small_fig, e))?;
    add_idle_rows(report, &small, TARGET_SMALL);
    json.insert("small".into(), small.json());
    report.record("supervisor", Value::Object(json.clone()));

    let readopt_fig = "Re-adoption after kill -9";
    let extra = READOPT_HOLDERS.saturating_sub(fleet.holders.len());
    fleet
        .grow(h, &env, extra, 0)
        .map_err(|e| (readopt_fig, e))?;
    let readopt = rt
        .block_on(readoption(h, &env, &mut sup, fleet))
        .map_err(|e| (readopt_fig, e))?;
    add_readopt_row(report, &readopt);
    json.insert("readoption".into(), readopt.json());
    report.record("supervisor", Value::Object(json.clone()));
    sup.stop();

    let large_fig = "Supervisor idle, 200 sessions";
    let holders = LARGE - panes(LARGE);
    fleet
        .grow(
            h,
            &env,
            holders.saturating_sub(fleet.holders.len()),
            panes(LARGE).saturating_sub(fleet.panes()),
        )
        .map_err(|e| (large_fig, e))?;
    let sup = Supervisor::spawn(h, &env).map_err(|e| (large_fig, e))?;
    let large = rt
        .block_on(idle_window(&sup, &env, fleet, opts.window))
        .map_err(|e| (large_fig, e))?;
    drop(sup);
    add_idle_rows(report, &large, TARGET_LARGE);

    let added = (large.sessions - small.sessions) as f64;
    let per_session = |a: f64, b: f64| (b - a) / 100.0 * 1e6 / added;
    let own = per_session(small.own_percent(), large.own_percent());
    let total = per_session(small.total_percent(), large.total_percent());
    report.add(
        Row::new(
            "Supervisor monitoring cost per session",
            format!("{own:.1} µs CPU/s"),
        )
        .beside(format!(
            "(own CPU at {} − at {}) / {}; {total:.1} µs/s with its children",
            large.sessions, small.sessions, added
        )),
    );
    json.insert("large".into(), large.json());
    json.insert("per_session_us_per_s".into(), json!(own));
    json.insert("per_session_us_per_s_with_children".into(), json!(total));
    report.record("supervisor", Value::Object(json));
    Ok(())
}

/// The directories and the agent binary every supervisor and session here shares.
pub(crate) struct Env {
    /// The harness's runtime directory: holders' sockets and the supervisor's.
    runtime: PathBuf,
    data: PathBuf,
    pub(crate) config: PathBuf,
    /// `TMUX_TMPDIR`: our tmux server's socket is `<this>/tmux-<uid>/pdb`.
    tmux_tmpdir: PathBuf,
    /// A copy of /bin/sleep named `claude`.
    claude: PathBuf,
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
    fn command(&self, program: &Path) -> Command {
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

    fn tmux(&self) -> Command {
        let mut cmd = self.command(Path::new("tmux"));
        cmd.args(["-L", TMUX_NAME, "-f", "/dev/null"]);
        cmd
    }
}

fn paddock_socket(runtime: &Path) -> PathBuf {
    runtime.join("_supervisor.sock")
}

/// The sessions started for this measurement.
#[derive(Default)]
pub(crate) struct Fleet {
    holders: Vec<Session>,
    tmux: Option<TmuxServer>,
}

impl Fleet {
    fn panes(&self) -> usize {
        self.tmux.as_ref().map_or(0, |t| t.panes.len())
    }

    /// Starts `holders` more holders and `panes` more tmux panes.
    pub(crate) fn grow(
        &mut self,
        h: &mut Harness,
        env: &Env,
        holders: usize,
        panes: usize,
    ) -> anyhow::Result<()> {
        let claude = env.claude.to_string_lossy().into_owned();
        for _ in 0..holders {
            // A copy of sleep named claude: no hooks for it (it would take them as arguments).
            let session = h.start_session(&["--no-hooks"], &[&claude, "100000"])?;
            self.holders.push(session);
        }
        if panes > 0 {
            let (tmux, more) = match &mut self.tmux {
                Some(t) => (t, panes),
                // The session comes with its first pane.
                None => (self.tmux.insert(TmuxServer::start(h, env)?), panes - 1),
            };
            tmux.add_panes(env, more)?;
        }
        Ok(())
    }

    /// The holders' ids and their agents' pids.
    pub(crate) fn holder_pids(&self) -> HashMap<String, u32> {
        self.holders
            .iter()
            .map(|s| (s.id.clone(), s.agent_pid))
            .collect()
    }

    /// Stops every session, the bridges the supervisor started for the panes too (call it
    /// once no supervisor runs, or it would start them again).
    pub(crate) fn stop(&mut self, h: &mut Harness) {
        for s in std::mem::take(&mut self.holders) {
            h.stop(&s);
        }
        for s in sessions_in(h.dir()) {
            h.stop(&s);
        }
        self.tmux = None;
    }
}

/// A private tmux server (`-L pdb` under our `TMUX_TMPDIR`) whose panes each run `claude`;
/// killed on drop.
struct TmuxServer {
    server_pid: u32,
    panes: Vec<u32>,
    cleanup: Cleanup,
    kill: Command,
}

const TMUX_SESSION: &str = "bench";

impl TmuxServer {
    fn start(h: &Harness, env: &Env) -> anyhow::Result<Self> {
        let claude = env.claude.to_string_lossy();
        let out = env
            .tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                TMUX_SESSION,
                "-x",
                "200",
                "-y",
                "50",
            ])
            .args([&*claude, "100000"])
            .stdin(Stdio::null())
            .output()
            .context("cannot run tmux; install it or pass --no-tmux")?;
        if !out.status.success() {
            bail!(
                "tmux new-session failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let pid = tmux_output(env, &["display-message", "-p", "#{pid}"])?;
        let server_pid: u32 = pid.trim().parse().context("tmux printed a bad pid")?;
        let cleanup = h.cleanup_handle();
        cleanup.track(server_pid, false);
        let mut kill = env.tmux();
        kill.arg("kill-server").stderr(Stdio::null());
        let mut server = Self {
            server_pid,
            panes: Vec::new(),
            cleanup,
            kill,
        };
        server.track_panes(env)?;
        Ok(server)
    }

    /// Opens `n` more windows running `claude`, in one tmux call.
    fn add_panes(&mut self, env: &Env, n: usize) -> anyhow::Result<()> {
        let claude = env.claude.to_string_lossy();
        if n > 0 {
            let mut args: Vec<&str> = Vec::new();
            for i in 0..n {
                if i > 0 {
                    args.push(";");
                }
                args.extend(["new-window", "-d", "-t", TMUX_SESSION, &claude, "100000"]);
            }
            tmux_output(env, &args)?;
        }
        self.track_panes(env)
    }

    /// Reads the panes' pids and has the harness kill their groups at cleanup.
    fn track_panes(&mut self, env: &Env) -> anyhow::Result<()> {
        let list = tmux_output(env, &["list-panes", "-a", "-F", "#{pane_pid}"])?;
        for pid in list.split_whitespace() {
            let pid: u32 = pid.parse().context("tmux printed a bad pane pid")?;
            if !self.panes.contains(&pid) {
                // A pane's process leads its own session: its group goes too.
                self.cleanup.track(pid, true);
                self.panes.push(pid);
            }
        }
        Ok(())
    }

    /// CPU time the server has used, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        ProcStat::of(self.server_pid).map_or(0, |s| s.utime + s.stime)
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        // The panes first, while tmux has not reaped them (their pids are still theirs).
        for &pid in &self.panes {
            if let Ok(p) = i32::try_from(pid) {
                let _ = killpg(Pid::from_raw(p), Signal::SIGKILL);
            }
            self.cleanup.forget(pid);
        }
        let stopped = self.kill.status().is_ok_and(|s| s.success());
        if !stopped {
            if let Ok(p) = i32::try_from(self.server_pid) {
                let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
            }
        }
        self.cleanup.forget(self.server_pid);
    }
}

fn tmux_output(env: &Env, args: &[&str]) -> anyhow::Result<String> {
    let out = env
        .tmux()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run tmux")?;
    if !out.status.success() {
        bail!(
            "tmux {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A `paddock up` started here; killed on drop.
pub(crate) struct Supervisor {
    child: Child,
    pub(crate) pid: u32,
    spawned_at: Instant,
    cleanup: Cleanup,
}

impl Supervisor {
    pub(crate) fn spawn(h: &Harness, env: &Env) -> anyhow::Result<Self> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(h.dir().join("supervisor.err"))
            .context("cannot open the supervisor's log")?;
        let mut cmd = env.command(h.paddock());
        cmd.arg("up")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let spawned_at = Instant::now();
        let child = cmd.spawn().context("cannot start `paddock up`")?;
        let pid = child.id();
        let cleanup = h.cleanup_handle();
        cleanup.track(pid, false);
        Ok(Self {
            child,
            pid,
            spawned_at,
            cleanup,
        })
    }

    /// `kill -9`, and reaps it.
    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.cleanup.forget(self.pid);
    }

    /// SIGTERM, as a user would stop it; SIGKILL if it is still there after 5 s.
    pub(crate) fn stop(mut self) {
        if let Ok(p) = i32::try_from(self.pid) {
            let _ = kill(Pid::from_raw(p), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Drop kills (if needed) and reaps.
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A `/proc/<pid>/stat` reading: CPU times in clock ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProcStat {
    pub(crate) utime: u64,
    pub(crate) stime: u64,
    /// Children that were waited for.
    cutime: u64,
    cstime: u64,
    threads: u64,
}

impl ProcStat {
    pub(crate) fn of(pid: u32) -> anyhow::Result<Self> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("process {pid} is gone"))?;
        Self::parse(&stat).with_context(|| format!("unreadable /proc/{pid}/stat"))
    }

    fn parse(stat: &str) -> Option<Self> {
        // Fields after the command name (which may hold spaces and parentheses): state is
        // field 3, utime 14, stime 15, cutime 16, cstime 17, num_threads 20.
        let (_, rest) = stat.rsplit_once(')')?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let at = |field: usize| f.get(field - 3)?.parse().ok();
        Some(Self {
            utime: at(14)?,
            stime: at(15)?,
            cutime: at(16)?,
            cstime: at(17)?,
            threads: at(20)?,
        })
    }
}

/// Resident memory, in KiB, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory {
    pub(crate) rss: u64,
    pub(crate) hwm: u64,
    pub(crate) anon: u64,
    pub(crate) file: u64,
}

impl Memory {
    pub(crate) fn of(pid: u32) -> anyhow::Result<Self> {
        let status = fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("process {pid} is gone"))?;
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Ok(Self {
            rss: field("VmRSS:"),
            hwm: field("VmHWM:"),
            anon: field("RssAnon:"),
            file: field("RssFile:"),
        })
    }
}

/// Processes created since boot, from `/proc/stat`.
fn processes_created() -> u64 {
    fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("processes "))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// One idle window of one supervisor.
struct Idle {
    sessions: usize,
    holders: usize,
    panes: usize,
    /// External agents the supervisor listed (the machine's, not ours).
    external: usize,
    /// From spawn to every session listed.
    listed_after: Duration,
    wall: Duration,
    own_ticks: u64,
    child_ticks: u64,
    tmux_ticks: u64,
    /// Bridges (holders the supervisor started for agent panes): how many, their CPU over
    /// the window and their summed VmRSS at its end.
    bridges: usize,
    bridge_ticks: u64,
    bridge_rss_kib: u64,
    bridge_anon_kib: u64,
    /// CPU by thread name, from schedstat.
    threads: BTreeMap<String, procfs::ThreadStats>,
    thread_count: u64,
    max_rss_kib: u64,
    end: Memory,
    busy_cores: f64,
    /// Processes the machine created during the window, and in how many of its seconds.
    forks: u64,
    seconds_with_forks: usize,
    seconds: usize,
    load: Option<f64>,
    status: Option<SupervisorStatus>,
}

impl Idle {
    fn percent(&self, ticks: u64) -> f64 {
        ticks as f64 / TICKS_PER_SEC / self.wall.as_secs_f64() * 100.0
    }

    fn own_percent(&self) -> f64 {
        self.percent(self.own_ticks)
    }

    fn child_percent(&self) -> f64 {
        self.percent(self.child_ticks)
    }

    fn total_percent(&self) -> f64 {
        self.own_percent() + self.child_percent()
    }

    /// The threads that used the most CPU, with their share.
    fn top_threads(&self) -> String {
        let total: u64 = self.threads.values().map(|t| t.cpu_ns).sum();
        let mut v: Vec<_> = self.threads.values().collect();
        v.sort_by_key(|t| std::cmp::Reverse(t.cpu_ns));
        let parts: Vec<String> = v
            .iter()
            .take(3)
            .map(|t| {
                format!(
                    "{} {:.0} %",
                    t.name,
                    t.cpu_ns as f64 * 100.0 / total.max(1) as f64
                )
            })
            .collect();
        parts.join(", ")
    }

    fn json(&self) -> Value {
        json!({
            "sessions": self.sessions,
            "holders": self.holders,
            "tmux_panes": self.panes,
            "external_listed": self.external,
            "listed_after_ms": self.listed_after.as_secs_f64() * 1e3,
            "window_secs": self.wall.as_secs_f64(),
            "cpu_percent_own": self.own_percent(),
            "cpu_percent_children": self.child_percent(),
            "cpu_percent_tmux_server": self.percent(self.tmux_ticks),
            "cpu_ticks": {
                "own": self.own_ticks,
                "children": self.child_ticks,
                "tmux_server": self.tmux_ticks,
                "bridges": self.bridge_ticks,
            },
            "bridges": {
                "count": self.bridges,
                "cpu_percent": self.percent(self.bridge_ticks),
                "vm_rss_sum_kib": self.bridge_rss_kib,
                "rss_anon_sum_kib": self.bridge_anon_kib,
            },
            "threads": procfs::growth_json(&self.threads),
            "thread_count": self.thread_count,
            "vm_rss_max_kib": self.max_rss_kib,
            "vm_rss_end_kib": self.end.rss,
            "vm_hwm_kib": self.end.hwm,
            "rss_anon_kib": self.end.anon,
            "rss_file_kib": self.end.file,
            "machine": {
                "busy_cores": self.busy_cores,
                "processes_created": self.forks,
                "seconds_with_new_processes": self.seconds_with_forks,
                "seconds": self.seconds,
                "load_1m_at_end": self.load,
            },
            "status": self.status,
        })
    }
}

fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}

fn add_idle_rows(report: &mut Report, m: &Idle, (cpu_target, rss_target): (f64, u64)) {
    let n = m.sessions;
    let what = format!("{} holders + {} tmux panes", m.holders, m.panes);
    let external = match m.external {
        0 => String::new(),
        1 => " (and 1 external agent of the machine)".to_owned(),
        e => format!(" (and {e} external agents of the machine)"),
    };
    report.add(
        Row::new(
            format!("Supervisor idle CPU, {n} sessions"),
            format!("{:.2} % of a core", m.total_percent()),
        )
        .beside(format!(
            "own {:.2} % + reaped children (tmux list-panes) {:.2} %; {what}{external}; \
             {:.0} s window; threads: {}; the tmux server used {:.2} % meanwhile",
            m.own_percent(),
            m.child_percent(),
            m.wall.as_secs_f64(),
            m.top_threads(),
            m.percent(m.tmux_ticks),
        ))
        .target(format!("≤ {cpu_target} %"), m.total_percent() <= cpu_target),
    );
    report.add(
        Row::new(format!("Supervisor RSS, {n} sessions"), mb(m.max_rss_kib))
            .beside(format!(
                "largest VmRSS of the window ({} anonymous + {} file-backed at its end); \
             peak since start (VmHWM) {}",
                mb(m.end.anon),
                mb(m.end.file),
                mb(m.end.hwm),
            ))
            .target(
                format!("≤ {} MB", rss_target / 1_000_000),
                m.max_rss_kib * 1024 <= rss_target,
            ),
    );
    if m.bridges > 0 {
        report.add(
            Row::new(
                format!("tmux bridges, {n} sessions"),
                format!("{:.2} % of a core", m.percent(m.bridge_ticks)),
            )
            .beside(format!(
                "the {} holders the supervisor started to mirror the agent panes, together; \
                 VmRSS summed {} ({} anonymous, the rest file-backed pages they share); \
                 not in the supervisor's figures",
                m.bridges,
                mb(m.bridge_rss_kib),
                mb(m.bridge_anon_kib),
            )),
        );
    }
    report.add(
        Row::new(
            format!("Machine during the {n}-session window"),
            format!(
                "{:.2} of {} cores busy",
                m.busy_cores,
                std::thread::available_parallelism().map_or(0, |n| n.get())
            ),
        )
        .beside(format!(
            "{} processes created (the supervisor's own `tmux list-panes` among them), in {} of \
             {} seconds; the watcher looks for new agents only when some were; load average {}",
            m.forks,
            m.seconds_with_forks,
            m.seconds,
            m.load.map_or("?".to_owned(), |l| l.to_string()),
        )),
    );
}

/// Waits until the supervisor lists every session of the fleet, lets it settle, then
/// watches it idle for `window`.
async fn idle_window(
    sup: &Supervisor,
    env: &Env,
    fleet: &Fleet,
    window: Duration,
) -> anyhow::Result<Idle> {
    let want = fleet.holder_pids();
    let panes = fleet.panes();
    let sessions = wait_listed(&env.socket(), &want, panes, sup.spawned_at + LIST_LIMIT).await?;
    let listed_after = sup.spawned_at.elapsed();
    eprintln!(
        "  {} sessions listed {} ms after the start; {} s to settle, then {} s",
        want.len() + panes,
        listed_after.as_millis(),
        SETTLE.as_secs(),
        window.as_secs()
    );
    tokio::time::sleep(SETTLE).await;

    let pid = sup.pid;
    let tmux = fleet.tmux.as_ref();
    // Holders the supervisor started itself: one bridge per agent pane.
    let bridges: Vec<u32> = sessions_in(&env.runtime)
        .into_iter()
        .filter(|s| !want.contains_key(&s.id))
        .map(|s| s.holder_pid)
        .collect();
    let bridge_ticks = || -> u64 {
        bridges
            .iter()
            .filter_map(|&p| ProcStat::of(p).ok())
            .map(|s| s.utime + s.stime)
            .sum()
    };
    let bridges_before = bridge_ticks();
    let before = ProcStat::of(pid)?;
    let threads_before = procfs::threads(pid)?;
    let cpu_before = CpuTimes::now()?;
    let tmux_before = tmux.map_or(0, TmuxServer::cpu_ticks);
    let forks_before = processes_created();
    let started = Instant::now();

    let mut max_rss = Memory::of(pid)?.rss;
    let mut seconds_with_forks = 0;
    let mut prev_forks = forks_before;
    let seconds = window.as_secs().max(1) as usize;
    for i in 1..=seconds {
        // Sleep until the i-th second of the window (no drift from the reads).
        let at = started + Duration::from_secs(i as u64);
        tokio::time::sleep(at.saturating_duration_since(Instant::now())).await;
        max_rss = max_rss.max(Memory::of(pid)?.rss);
        let forks = processes_created();
        if forks != prev_forks {
            seconds_with_forks += 1;
        }
        prev_forks = forks;
    }

    let after = ProcStat::of(pid)?;
    let threads_after = procfs::threads(pid)?;
    let wall = started.elapsed();
    let cpu_after = CpuTimes::now()?;
    let tmux_after = tmux.map_or(0, TmuxServer::cpu_ticks);
    let bridges_after = bridge_ticks();
    let bridge_memory: Vec<Memory> = bridges.iter().filter_map(|&p| Memory::of(p).ok()).collect();
    let end = Memory::of(pid)?;
    let forks = processes_created() - forks_before;
    let load = load_average();
    // Still every session, after the window.
    let status = status(&env.socket()).await.ok();
    if let Some(s) = &status {
        if (s.holders as usize) < want.len() || (s.tmux as usize) < panes {
            bail!(
                "after the window the supervisor lists {} holders and {} tmux sessions, not {} and {}",
                s.holders,
                s.tmux,
                want.len(),
                panes
            );
        }
    }
    Ok(Idle {
        sessions: want.len() + panes,
        holders: want.len(),
        panes,
        external: status.as_ref().map_or_else(
            || {
                sessions
                    .iter()
                    .filter(|s| s.backend == Backend::External)
                    .count()
            },
            |s| s.external as usize,
        ),
        listed_after,
        wall,
        own_ticks: (after.utime + after.stime).saturating_sub(before.utime + before.stime),
        child_ticks: (after.cutime + after.cstime).saturating_sub(before.cutime + before.cstime),
        tmux_ticks: tmux_after.saturating_sub(tmux_before),
        bridges: bridges.len(),
        bridge_ticks: bridges_after.saturating_sub(bridges_before),
        bridge_rss_kib: bridge_memory.iter().map(|m| m.rss).sum(),
        bridge_anon_kib: bridge_memory.iter().map(|m| m.anon).sum(),
        threads: procfs::growth(&threads_before, &threads_after),
        thread_count: after.threads,
        max_rss_kib: max_rss.max(end.rss),
        end,
        busy_cores: cpu_after.busy_cores_since(&cpu_before),
        forks,
        seconds_with_forks,
        seconds,
        load,
        status,
    })
}

pub(crate) fn hello() -> Hello {
    let mut hello = Hello::control(Mode::ReadOnly);
    hello.client_name = Some("bench".into());
    hello
}

async fn status(socket: &Path) -> anyhow::Result<SupervisorStatus> {
    let mut c = Requester::connect(socket, hello()).await?;
    match c.request(Request::Status).await? {
        Response::Status { status } => Ok(*status),
        other => bail!("the supervisor answered {other:?} to status"),
    }
}

/// Polls the supervisor's session list (connecting as soon as it listens) until every holder
/// in `holders` is listed, running, with its agent's pid, and at least `panes` tmux sessions
/// are; returns that list. Fails at `deadline`.
pub(crate) async fn wait_listed(
    socket: &Path,
    holders: &HashMap<String, u32>,
    panes: usize,
    deadline: Instant,
) -> anyhow::Result<Vec<SessionView>> {
    let mut conn: Option<Requester> = None;
    let mut last = String::from("never answered");
    loop {
        if conn.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Ok(Ok(c)) = tokio::time::timeout(left, Requester::connect(socket, hello())).await
            {
                conn = Some(c);
            }
        }
        if let Some(c) = &mut conn {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, c.request(Request::ListSessions)).await {
                Ok(Ok(Response::Sessions { sessions })) => {
                    let found = sessions
                        .iter()
                        .filter(|s| {
                            s.backend == Backend::Holder
                                && !s.status.state.is_final()
                                && holders.get(s.id.as_str()) == Some(&s.pid)
                        })
                        .count();
                    let tmux = sessions
                        .iter()
                        .filter(|s| s.backend == Backend::Tmux)
                        .count();
                    if found == holders.len() && tmux >= panes {
                        return Ok(sessions);
                    }
                    last = format!(
                        "{found} of {} holders, {tmux} of {panes} panes",
                        holders.len()
                    );
                }
                _ => conn = None,
            }
        }
        if Instant::now() >= deadline {
            bail!("the supervisor did not list every session in time: {last}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

struct Readoption {
    holders: usize,
    times: Vec<Duration>,
}

impl Readoption {
    fn json(&self) -> Value {
        json!({
            "holders": self.holders,
            "restarts_ms": self.times.iter().map(|t| t.as_secs_f64() * 1e3).collect::<Vec<_>>(),
            "median_ms": percentile(&self.times, 50.0).as_secs_f64() * 1e3,
            "max_ms": percentile(&self.times, 100.0).as_secs_f64() * 1e3,
            "agents_alive_throughout": true,
        })
    }
}

fn add_readopt_row(report: &mut Report, r: &Readoption) {
    let median = percentile(&r.times, 50.0);
    let max = percentile(&r.times, 100.0);
    let all: Vec<String> = r
        .times
        .iter()
        .map(|t| format!("{:.0}", t.as_secs_f64() * 1e3))
        .collect();
    report.add(
        Row::new(
            format!(
                "Re-adoption after kill -9, {} holders, median / max",
                r.holders
            ),
            format!(
                "{:.0} / {:.0} ms",
                median.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3
            ),
        )
        .beside(format!(
            "spawn of `paddock up` → all {} holders listed with their agents' pids; {} restarts \
             ({} ms); every holder and agent stayed alive",
            r.holders,
            r.times.len(),
            all.join(", ")
        ))
        .target("≤ 1 s", max <= TARGET_READOPT),
    );
}

/// `kill -9` the supervisor, start it again, time until it lists every holder; `RESTARTS`
/// times. `sup` is the running supervisor, and the last one started on return.
async fn readoption(
    h: &Harness,
    env: &Env,
    sup: &mut Supervisor,
    fleet: &Fleet,
) -> anyhow::Result<Readoption> {
    let want = fleet.holder_pids();
    let check_alive = |when: &str| -> anyhow::Result<()> {
        for s in &fleet.holders {
            if !process_alive(s.agent_pid) || !process_alive(s.holder_pid) {
                bail!(
                    "session {} (holder {}, agent {}) died {when}",
                    s.id,
                    s.holder_pid,
                    s.agent_pid
                );
            }
        }
        Ok(())
    };
    // The running supervisor knows them all before the first kill.
    wait_listed(&env.socket(), &want, 0, Instant::now() + LIST_LIMIT).await?;
    let mut times = Vec::new();
    for round in 1..=RESTARTS {
        // Let the supervisor reach its steady state (first samples, discovery) before the kill.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if !sup.alive() {
            bail!("the supervisor exited on its own before restart {round}");
        }
        sup.kill9();
        check_alive(&format!("when the supervisor was killed (restart {round})"))?;
        *sup = Supervisor::spawn(h, env)?;
        wait_listed(&env.socket(), &want, 0, sup.spawned_at + READOPT_LIMIT).await?;
        let took = sup.spawned_at.elapsed();
        check_alive(&format!("during restart {round}"))?;
        eprintln!(
            "  restart {round}: {} holders listed after {:.1} ms",
            want.len(),
            took.as_secs_f64() * 1e3
        );
        times.push(took);
    }
    Ok(Readoption {
        holders: want.len(),
        times,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "42 (tokio (a) b) S 1 42 42 0 -1 4194560 900 0 0 0 \
                    17 5 3 2 20 0 4 0 1000 2000000 300 18446744073709551615";
        let s = ProcStat::parse(line).expect("a valid stat line");
        assert_eq!(
            (s.utime, s.stime, s.cutime, s.cstime, s.threads),
            (17, 5, 3, 2, 4)
        );
        assert!(ProcStat::parse("42 (x) S 1").is_none());
        let me = ProcStat::of(std::process::id()).expect("our own stat");
        assert!(me.threads >= 1);
    }
}
