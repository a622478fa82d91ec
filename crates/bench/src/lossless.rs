//! Lossless following and fan-out under pressure (`--only lossless`).
//!
//! **Follower**: the agent is `sh -c 'read x; cat FILE'` in a session with the default ring
//! (4 MiB); `paddock logs --follow --raw` follows it into a pipe this bench reads and
//! compares, byte for byte, with what the terminal must have printed (the echo of "\r", then
//! the file with ONLCR's `\r\n`). `logs` hands that pipe to the holder, which writes into it
//! itself (`paddock_host`'s sink; a holder that declines sends frames `logs` copies on).
//! The clock runs from the "\r" to the follower's last byte; the agent's own time ends when
//! the holder announces its exit (every byte then is in the ring). Runs alternate with a
//! bare PTY, which reads as fast as it can, and a bare relay: the same reader writing each
//! read into a pipe another thread reads (`follow::relay_run`), the least any program
//! between a PTY and its reader costs.
//!
//! **Fan-out**: 49 fast lossless clients and one slow ordinary client (it reads 16 KiB every
//! 20 ms) on one session printing a quarter of `--size`; then the same without the slow
//! client; three rounds of the two, alternating. Reported: whether every fast client got
//! every byte, how often the slow one was resynced, the agent's median time with and
//! without it, and the holder's peak memory.
//!
//! The follower's runs are in `follow`, the fan-out's in `fan_out`; this module alternates
//! them and records what both found.

mod fan_out;
mod follow;

use crate::harness::Harness;
use crate::options::Options;
use crate::report::Report;
use crate::throughput::{raw_pty, ECHO};
use fan_out::{fan_rows, fan_run};
use follow::{follow_run, follower_rows, relay_run};
use serde_json::json;
use std::time::Duration;

/// Clients in the fan-out run, the slow one included.
const FAN_CLIENTS: usize = 50;
/// Fan-out rounds, each with the slow client and without it, alternating; medians reported.
const FAN_ROUNDS: usize = 3;

pub fn run(h: &mut Harness, opts: &Options, report: &mut Report) {
    let file = match h.text_file("lossless.txt", opts.size) {
        Ok(f) => f,
        Err(e) => return report.fail("Lossless follower", &e),
    };
    let bytes = ECHO + file.tty_bytes();
    let follow_script = format!("read x; cat {}", file.path.display());
    let raw_script = format!("read x; cat {}; exec sleep 1000000", file.path.display());
    let (mut raws, mut relays, mut runs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=opts.follows {
        eprintln!(
            "lossless: round {round}/{}: bare PTY, bare relay, logs --follow --raw",
            opts.follows
        );
        match raw_pty(&raw_script, bytes) {
            Ok(r) => raws.push(r.elapsed),
            Err(e) => report.fail(&format!("Lossless follower, bare PTY, round {round}"), &e),
        }
        match relay_run(&raw_script, bytes) {
            Ok(r) => relays.push(r),
            Err(e) => report.fail(&format!("Lossless follower, bare relay, round {round}"), &e),
        }
        match follow_run(h, &follow_script, bytes) {
            Ok(r) => runs.push(r),
            Err(e) => report.fail(&format!("Lossless follower, round {round}"), &e),
        }
    }
    let mut json = json!({ "tty_bytes": bytes });
    follower_rows(
        report,
        &mut json,
        bytes,
        (&raws, &relays),
        &runs,
        opts.follows,
    );

    let fan_file = match h.text_file("fan.txt", opts.size / 4) {
        Ok(f) => f,
        Err(e) => return report.fail("Fan-out with a slow client", &e),
    };
    let fan_bytes = ECHO + fan_file.tty_bytes();
    let fan_script = format!("read x; cat {}", fan_file.path.display());
    let fast = FAN_CLIENTS - 1;
    let (mut with_slow, mut without) = (Vec::new(), Vec::new());
    for round in 1..=FAN_ROUNDS {
        eprintln!("lossless: fan-out round {round}/{FAN_ROUNDS}, {fast} fast clients + 1 slow");
        match fan_run(h, &fan_script, fan_bytes, fast, true) {
            Ok(r) => with_slow.push(r),
            Err(e) => report.fail(&format!("Fan-out with a slow client, round {round}"), &e),
        }
        eprintln!("lossless: fan-out round {round}/{FAN_ROUNDS}, {fast} fast clients alone");
        match fan_run(h, &fan_script, fan_bytes, fast, false) {
            Ok(r) => without.push(r),
            Err(e) => report.fail(
                &format!("Fan-out without the slow client, round {round}"),
                &e,
            ),
        }
    }
    if !with_slow.is_empty() && !without.is_empty() {
        fan_rows(report, &mut json, fan_bytes, &with_slow, &without);
    }
    report.record("lossless", json);
}

fn median(v: &[Duration]) -> Option<Duration> {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied()
}
