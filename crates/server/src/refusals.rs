//! Refusals in the audit log: every refused request, socket and connection (a bad token, a
//! foreign origin, a rate limit, a malformed or oversize WebSocket message, a TLS handshake
//! below 1.3, a client that never finished its headers, one connection too many) is written
//! with the peer address and the reason. A budget per address
//! (`server.audited_refusals_per_minute`) and one for all addresses together (twenty times
//! that) keep a flood from filling the disk: refusals past it are only counted, and the next
//! entry written for that address says how many were left out.

use paddock_core::access::{Access, AuditInput};
use paddock_proto::access::DeviceId;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// One refusal to record.
pub struct Refusal {
    /// `auth.unauthenticated`, `origin.denied`, `rate.limited`, `ws.refused`, `tls.refused`,
    /// `conn.refused`, `http.header_timeout`, ...
    pub action: &'static str,
    /// What was asked for (`GET /api/v1/...`, `connection`).
    pub target: String,
    /// Why it was refused, as the client was told.
    pub reason: String,
    /// `unauthenticated`, `rate_limited` or `refused`.
    pub result: &'static str,
    /// The device, when its token was valid (a WebSocket message it was not allowed).
    pub device: Option<DeviceId>,
}

impl Refusal {
    pub fn new(action: &'static str, target: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            action,
            target: target.into(),
            reason: reason.into(),
            result: "refused",
            device: None,
        }
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
    /// Refusals not written since the last one that was.
    skipped: u64,
}

/// The audit budgets. Shared by the router and the accept loop.
pub struct Refusals {
    per_minute: f64,
    state: Mutex<(HashMap<IpAddr, Bucket>, Bucket)>,
}

impl Refusals {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = f64::from(per_minute.max(1));
        let now = Instant::now();
        Self {
            per_minute,
            state: Mutex::new((
                HashMap::new(),
                Bucket {
                    tokens: per_minute * 20.0,
                    last: now,
                    skipped: 0,
                },
            )),
        }
    }

    /// `Some(skipped)` when this refusal from `ip` is to be written (with the number left out
    /// before it), `None` when the budget is spent.
    fn admit(&self, ip: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let rate = self.per_minute / 60.0;
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (per_ip, global) = &mut *guard;
        if per_ip.len() > 10_000 {
            per_ip.retain(|_, b| now.duration_since(b.last).as_secs() < 120 || b.skipped > 0);
        }
        let refill = |b: &mut Bucket, cap: f64| {
            b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(cap);
            b.last = now;
        };
        refill(global, self.per_minute * 20.0);
        let b = per_ip.entry(ip).or_insert(Bucket {
            tokens: self.per_minute,
            last: now,
            skipped: 0,
        });
        refill(b, self.per_minute);
        if b.tokens >= 1.0 && global.tokens >= 1.0 {
            b.tokens -= 1.0;
            global.tokens -= 1.0;
            Some(std::mem::take(&mut b.skipped))
        } else {
            b.skipped += 1;
            None
        }
    }

    /// Writes `r` to the audit log off the async threads, unless the budget is spent; the
    /// write's task, for a caller that answers only once it is stored.
    pub fn record(
        &self,
        access: &Access,
        ip: IpAddr,
        r: Refusal,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let skipped = self.admit(ip)?;
        let detail = if skipped > 0 {
            format!(
                "{} ({skipped} more refusals from this address were not recorded: over server.audited_refusals_per_minute)",
                r.reason
            )
        } else {
            r.reason
        };
        let entry = AuditInput {
            actor: match &r.device {
                Some(d) => format!("device:{d}"),
                None => format!("ip:{ip}"),
            },
            device_id: r.device,
            action: r.action.into(),
            target: Some(format!("{} from {ip}", r.target)),
            result: r.result.into(),
            detail: Some(detail),
        };
        let access = access.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => Some(rt.spawn_blocking(move || access.audit(entry))),
            Err(_) => {
                access.audit(entry);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_written_up_to_the_budget_then_counted_into_the_next_entry() {
        let r = Refusals::new(3);
        let ip = IpAddr::from([10, 0, 0, 7]);
        assert_eq!(r.admit(ip), Some(0));
        assert_eq!(r.admit(ip), Some(0));
        assert_eq!(r.admit(ip), Some(0));
        for _ in 0..100 {
            assert_eq!(r.admit(ip), None);
        }
        // Another address has a budget of its own.
        assert_eq!(r.admit(IpAddr::from([10, 0, 0, 8])), Some(0));
        // Once the budget refills, the next entry says how many were left out.
        {
            let mut g = r.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(b) = g.0.get_mut(&ip) {
                b.tokens = 1.0;
            }
        }
        assert_eq!(r.admit(ip), Some(100));
    }
}
