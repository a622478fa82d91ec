//! `paddock-bench soak`: a real `paddock up` with N sessions (flooding, idle, interactive
//! bash shells typed into) and M WSS clients attaching, detaching and resuming at random,
//! REST load, and meanwhile faults: `kill -9` of the supervisor (restarted), SIGSTOP/SIGCONT
//! of it, dropped connections, a holder's client killed mid-frame. Checked throughout: no
//! agent lost, every client's bytes contiguous and equal to the session's own record, the
//! supervisor's and holders' memory and descriptors after warm-up, the store's
//! `integrity_check` at the end. Exits non-zero, naming the check, on any violation.
//!
//! Run by `scripts/soak.sh` (see README.md, "Soak"); `main` dispatches `soak` here.

mod clients;
mod faults;
mod options;
mod sessions;
mod watch;

use crate::endpoint::Endpoint;
use anyhow::Context;
use options::SoakOptions;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const COMMAND: &str = "soak";
pub use faults::{half_frame_child, HALF_FRAME};

/// What went wrong, each with the check that caught it; shared by every task.
#[derive(Clone, Default)]
pub struct Violations(Arc<Mutex<Vec<String>>>);

impl Violations {
    /// Records a violation of `check` (printed at once, so a long run shows it early).
    pub fn add(&self, check: &str, what: String) {
        eprintln!("soak: VIOLATION [{check}] {what}");
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        v.push(format!("[{check}] {what}"));
    }

    pub fn list(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `paddock-bench soak ARGS`: runs the soak, prints its figures, and exits 1 on any
/// violation, 2 on bad arguments.
pub fn main(args: Vec<String>) -> ExitCode {
    let opts = match crate::startup::options(
        SoakOptions::parse(args),
        "paddock-bench soak",
        options::USAGE,
    ) {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    match run(&opts) {
        Ok(violations) if violations.is_empty() => {
            eprintln!("soak: passed: no violation");
            ExitCode::SUCCESS
        }
        Ok(violations) => {
            eprintln!("soak: FAILED: {} violation(s):", violations.len());
            for v in violations.iter().take(50) {
                eprintln!("  {v}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("paddock-bench soak: the soak could not run: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(opts: &SoakOptions) -> anyhow::Result<Vec<String>> {
    let bench_opts = crate::options::Options {
        paddock: opts.paddock.clone(),
        ..Default::default()
    };
    let (mut h, rt) = crate::startup::start(&bench_opts, "soak")?;
    let violations = Violations::default();
    eprintln!(
        "soak: {} sessions, {} WSS clients, {:.1} min, faults every {} s, seed {}; runtime dir {}",
        opts.sessions,
        opts.clients,
        opts.duration.as_secs_f64() / 60.0,
        opts.fault_every.as_secs(),
        opts.seed,
        h.dir().display()
    );

    let set = sessions::start(&mut h, opts)?;
    let port = faults::free_port()?;
    let port_s = port.to_string();
    let mut ep = Endpoint::start_with(&h, &[("PADDOCK_SERVER__PORT", &port_s)])
        .context("cannot start paddock up")?;
    let client = rt.block_on(crate::client::pair(&h, &ep))?;
    let ids: Vec<String> = set.all().map(|s| s.session.id.clone()).collect();
    rt.block_on(watch::wait_listed(&client, &ids, Duration::from_secs(30)))
        .context("the supervisor did not list every session after its start")?;
    let baseline = watch::Baseline::take(&ep, &set)?;
    eprintln!(
        "soak: every session listed; supervisor {} fds, holders {} fds in all",
        baseline.supervisor_fds, baseline.holder_fds
    );

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let shared = clients::Shared::default();
    let figures = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..opts.clients {
            tasks.spawn(clients::client(
                i,
                client.clone(),
                set.clone(),
                shared.clone(),
                opts.seed.wrapping_add(i as u64 * 7919),
                stop.clone(),
                violations.clone(),
            ));
        }
        for s in set.shells() {
            tasks.spawn(clients::typist(
                set.clone(),
                s.index,
                shared.clone(),
                stop.clone(),
                violations.clone(),
            ));
        }
        let rest = tokio::spawn(clients::rest_load(
            client.clone(),
            ids.clone(),
            opts.seed ^ 0x5eed,
            stop.clone(),
        ));
        let (faults, watch) = {
            let deadline = started + opts.duration;
            let mut sampler = watch::Sampler::new(opts.warmup);
            let mut injector = faults::Injector::new(opts, &set);
            let mut next_fault = Instant::now() + opts.fault_every;
            let mut next_sample = Instant::now();
            let mut next_check = Instant::now();
            while Instant::now() < deadline {
                let now = Instant::now();
                if now >= next_sample {
                    sampler.sample(ep.pid(), &set, started.elapsed());
                    next_sample = now + Duration::from_secs(2);
                }
                if now >= next_check {
                    watch::check_agents(&client, &ids, &set, &violations).await;
                    next_check = now + Duration::from_secs(5);
                }
                if now >= next_fault {
                    injector
                        .inject(&mut ep, &client, &ids, &shared, &violations)
                        .await;
                    next_fault = Instant::now() + opts.fault_every;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            (injector.counts(), sampler)
        };
        stop.store(true, Ordering::Relaxed);
        while tasks.join_next().await.is_some() {}
        let rest = rest.await.unwrap_or_default();
        anyhow::Ok((faults, watch, rest))
    });
    let (faults, sampler, rest) = figures?;
    eprintln!(
        "soak: load stopped after {:.0} s; final checks",
        started.elapsed().as_secs_f64()
    );

    // Every client is gone: every session must still be there, and the descriptors of the
    // supervisor and of each holder back where they were before the first client came.
    rt.block_on(watch::check_agents(&client, &ids, &set, &violations));
    rt.block_on(clients::check_records(&set, &shared, &violations));
    watch::check_fds_settle(&ep, &set, &baseline, &violations);
    sampler.check_growth(&violations);
    drop(client);
    let integrity = watch::integrity(&h, &mut ep);
    match &integrity {
        Ok(s) if s == "ok" => {}
        Ok(s) => violations.add("integrity_check", format!("the store reports: {s}")),
        Err(e) => violations.add("integrity_check", format!("{e:#}")),
    }
    let stats = shared.totals();
    println!(
        "{}",
        watch::report(
            opts,
            started.elapsed(),
            &stats,
            &faults,
            &rest,
            &sampler,
            &integrity
        )
    );
    drop(ep);
    Ok(violations.list())
}
