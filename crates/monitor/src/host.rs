//! Host metrics for the system status: CPU, memory, the data directory's disk, load, network.
//!
//! Called through [`Monitor::host`](crate::Monitor::host). CPU and network rates are deltas
//! since the previous call, so the first call reports 0 for them.

use crate::types::{DiskMetrics, HostMetrics};
use std::path::{Path, PathBuf};
use std::time::Instant;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, Networks, RefreshKind, System};

/// The state kept between calls.
pub(crate) struct Host {
    sys: System,
    networks: Networks,
    data_dir: Option<PathBuf>,
    last_net: Option<(u64, u64, Instant)>,
}

impl Host {
    pub(crate) fn new(data_dir: Option<PathBuf>) -> Self {
        let sys = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing().with_cpu_usage())
                .with_memory(MemoryRefreshKind::everything()),
        );
        Self {
            sys,
            networks: Networks::new_with_refreshed_list(),
            data_dir,
            last_net: None,
        }
    }

    pub(crate) fn sample(&mut self, process_count: usize) -> HostMetrics {
        self.sys.refresh_cpu_usage();
        self.sys.refresh_memory();
        self.networks.refresh(true);
        let now = Instant::now();
        let (rx, tx) = self
            .networks
            .iter()
            .filter(|(name, _)| !is_loopback(name))
            .fold((0u64, 0u64), |(rx, tx), (_, data)| {
                (
                    rx.saturating_add(data.total_received()),
                    tx.saturating_add(data.total_transmitted()),
                )
            });
        let (rx_rate, tx_rate) = match self.last_net {
            Some((last_rx, last_tx, at)) => {
                let secs = now.duration_since(at).as_secs_f64();
                if secs > 0.0 {
                    (
                        rx.saturating_sub(last_rx) as f64 / secs,
                        tx.saturating_sub(last_tx) as f64 / secs,
                    )
                } else {
                    (0.0, 0.0)
                }
            }
            None => (0.0, 0.0),
        };
        self.last_net = Some((rx, tx, now));
        let load = System::load_average();
        HostMetrics {
            cpu_percent: self.sys.global_cpu_usage(),
            cpus: self.sys.cpus().len(),
            memory_used_bytes: self.sys.used_memory(),
            memory_total_bytes: self.sys.total_memory(),
            swap_used_bytes: self.sys.used_swap(),
            swap_total_bytes: self.sys.total_swap(),
            disk: self.data_dir.as_deref().and_then(disk_metrics),
            load_average: [load.one, load.five, load.fifteen],
            net_rx_bytes: rx,
            net_tx_bytes: tx,
            net_rx_bytes_per_sec: rx_rate,
            net_tx_bytes_per_sec: tx_rate,
            process_count,
            uptime_secs: System::uptime(),
        }
    }
}

fn is_loopback(name: &str) -> bool {
    name == "lo" || name.starts_with("lo0")
}

/// `df` for the filesystem holding `path`.
#[cfg(unix)]
pub(crate) fn disk_metrics(path: &Path) -> Option<DiskMetrics> {
    let st = match nix::sys::statvfs::statvfs(path) {
        Ok(st) => st,
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "statvfs failed");
            return None;
        }
    };
    // The field types differ between platforms (u32 or u64).
    fn wide<T: TryInto<u64>>(v: T) -> u64 {
        v.try_into().unwrap_or(u64::MAX)
    }
    let unit = wide(st.fragment_size());
    let total = wide(st.blocks()).saturating_mul(unit);
    let free = wide(st.blocks_free()).saturating_mul(unit);
    Some(DiskMetrics {
        path: path.to_owned(),
        used_bytes: total.saturating_sub(free),
        total_bytes: total,
        available_bytes: wide(st.blocks_available()).saturating_mul(unit),
    })
}

#[cfg(not(unix))]
pub(crate) fn disk_metrics(_path: &Path) -> Option<DiskMetrics> {
    None
}
