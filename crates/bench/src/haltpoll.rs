//! The guest's halt polling: how long an idle virtual CPU polls for work before it halts.
//!
//! On a VM whose kernel boots with `haltpoll.guest_halt_poll_ns=0`, an idle vCPU halts at
//! once, and waking a task on it costs an inter-processor interrupt through the hypervisor
//! (tens of µs, longer in the tail). A keystroke through the holder crosses CPUs where a
//! bare PTY's echo usually does not, so this setting decides the holder's keystroke tail.
//! The bench records it beside every run and, with `--halt-poll NS` (root only), measures
//! the keystroke round trip a second time with the setting changed for that pass alone.

use anyhow::Context;
use std::path::Path;

const PARAM: &str = "/sys/module/haltpoll/parameters/guest_halt_poll_ns";

/// The current setting, when this kernel has the haltpoll cpuidle driver.
pub fn current() -> Option<u64> {
    std::fs::read_to_string(PARAM).ok()?.trim().parse().ok()
}

/// Sets the halt-polling time until dropped, then puts the old value back.
pub struct Override {
    old: u64,
}

impl Override {
    pub fn set(ns: u64) -> anyhow::Result<Self> {
        if !Path::new(PARAM).exists() {
            anyhow::bail!("this kernel has no haltpoll cpuidle driver ({PARAM} is missing), so there is no halt polling to change");
        }
        let old = current().with_context(|| format!("cannot read {PARAM}"))?;
        write(ns).with_context(|| {
            format!("cannot set {PARAM} (only root may); run the bench as root or leave out --halt-poll")
        })?;
        Ok(Self { old })
    }
}

impl Drop for Override {
    fn drop(&mut self) {
        if let Err(e) = write(self.old) {
            eprintln!(
                "paddock-bench: cannot restore {PARAM} to {}: {e}; set it back by hand",
                self.old
            );
        }
    }
}

fn write(ns: u64) -> std::io::Result<()> {
    std::fs::write(PARAM, ns.to_string())
}
