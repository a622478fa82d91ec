//! The endpoint (`paddock up`'s HTTPS REST and WSS) measured on this machine: REST latency
//! at a fixed 1,000 requests/s, the supervisor's CPU for 50 WSS clients receiving 10 events/s,
//! terminal output over WSS beside the holder socket and a bare PTY, the keystroke round trip
//! over TLS WSS beside the holder socket, and what a resume after a cut costs.
//!
//! Every client pins the endpoint's certificate and uses a token from real pairing.
//!
//! The pieces: `up` (the supervisor and its connections), `client` (REST and WSS as the
//! benches speak them), and one module per measurement: `rest`, `keystrokes`, `output`,
//! `fan_out`, `resync`.

mod client;
mod fan_out;
mod keystrokes;
mod output;
mod rest;
mod resync;
mod up;

pub(crate) use client::{call, Sender};
pub(crate) use up::Endpoint;

use crate::harness::Harness;
use crate::options::Options;
use crate::report::{latency_summary, micros, percentile, Report, Row};
use fan_out::fan_out;
use keystrokes::keystrokes;
use output::throughput_rows;
use rest::rest_latency;
use resync::resync;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::runtime::Runtime;

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    eprintln!("endpoint: starting paddock up with its endpoint");
    let ep = match Endpoint::start(h) {
        Ok(ep) => ep,
        Err(e) => return report.fail("Endpoint", &e),
    };
    let mut json = serde_json::Map::new();
    eprintln!("endpoint: REST at 1,000 requests/s");
    match rt.block_on(rest_latency(&ep)) {
        Ok((samples, sent, late)) => {
            let p95 = percentile(&samples, 95.0);
            report.add(
                Row::new(
                    "REST GET /api/v1/sessions at 1,000 req/s, p50 / p95 / p99",
                    format!(
                        "{:.2} / {:.2} / {:.2} ms",
                        micros(percentile(&samples, 50.0)) / 1e3,
                        micros(p95) / 1e3,
                        micros(percentile(&samples, 99.0)) / 1e3
                    ),
                )
                .beside(format!(
                    "{sent} requests over 4 TLS connections, {late} sent late"
                ))
                .target("p95 ≤ 5 ms", p95 <= Duration::from_millis(5)),
            );
            json.insert("rest".into(), latency_summary(&samples));
        }
        Err(e) => report.fail("REST latency", &e),
    }
    eprintln!("endpoint: keystroke round trip over WSS and over the holder socket");
    match keystrokes(h, rt, &ep, opts.samples) {
        Ok((ws, sock)) => {
            let p99 = percentile(&ws, 99.0);
            report.add(
                Row::new(
                    "Keystroke round trip over TLS WSS, p50 / p99",
                    format!(
                        "{:.0} / {:.0} µs",
                        micros(percentile(&ws, 50.0)),
                        micros(p99)
                    ),
                )
                .beside(format!(
                    "holder socket {:.0} / {:.0} µs",
                    micros(percentile(&sock, 50.0)),
                    micros(percentile(&sock, 99.0))
                ))
                .target("p99 ≤ 500 µs", p99 <= Duration::from_micros(500)),
            );
            json.insert("keystroke_wss".into(), latency_summary(&ws));
            json.insert("keystroke_socket".into(), latency_summary(&sock));
        }
        Err(e) => report.fail("Keystroke round trip over WSS", &e),
    }
    eprintln!("endpoint: output throughput over WSS, holder socket, bare PTY");
    match throughput_rows(h, rt, &ep, opts) {
        Ok((wss, socket, raw)) => {
            let share = wss / raw * 100.0;
            report.add(
                Row::new(
                    "Output throughput to one WSS client",
                    format!("{wss:.0} MB/s"),
                )
                .beside(format!(
                    "holder socket {socket:.0} MB/s; bare PTY {raw:.0} MB/s ({share:.0} %)"
                ))
                .target("≥ 60 % of bare PTY", share >= 60.0),
            );
            json.insert(
                "throughput".into(),
                json!({"wss": wss, "socket": socket, "raw": raw}),
            );
        }
        Err(e) => report.fail("Output throughput over WSS", &e),
    }
    eprintln!("endpoint: 50 WSS clients receiving 10 events/s");
    match rt.block_on(fan_out(&ep)) {
        Ok(f) => {
            report.add(
                Row::new(
                    "Event fan-out to 50 WSS clients at 10 Hz, supervisor CPU",
                    format!("{:.2} % of a core more than with no client", f.delta),
                )
                .beside(format!(
                    "{:.2} % with 50 clients, {:.2} % with none; {:.1} events/s reached each client",
                    f.with, f.without, f.per_client_rate
                ))
                .target("≤ 5 % of a core", f.delta <= 5.0),
            );
            json.insert(
                "fan_out".into(),
                json!({"with": f.with, "without": f.without, "per_client_events_per_s": f.per_client_rate}),
            );
        }
        Err(e) => report.fail("Event fan-out", &e),
    }
    eprintln!("endpoint: resume after a cut");
    match resync(h, rt, &ep) {
        Ok(r) => {
            report.add(
                Row::new(
                    "Resume over WSS after missing 512 KiB",
                    format!(
                        "{:.1} ms, {} bytes (exactly the missed ones)",
                        r.resume_ms, r.resume_bytes
                    ),
                )
                .beside(format!(
                    "a fresh attach instead: {:.1} ms, {} bytes of snapshot",
                    r.snapshot_ms, r.snapshot_bytes
                )),
            );
            json.insert(
                "resync".into(),
                json!({"resume_ms": r.resume_ms, "resume_bytes": r.resume_bytes, "snapshot_ms": r.snapshot_ms, "snapshot_bytes": r.snapshot_bytes}),
            );
        }
        Err(e) => report.fail("Resume after a cut", &e),
    }
    report.record("endpoint", Value::Object(json));
    drop(ep);
}
