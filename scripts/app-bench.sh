#!/usr/bin/env bash
# Benchmark of the desktop app in host mode (README, "The desktop app: figures"): the app
# idle with 20 sessions, its window closed and then open (CPU as % of one core over a
# sampling window, RSS of the app's own process; WebKit's processes reported apart), and
# cold start to a mapped window, beside the reference: the same 20 sessions under `paddock up`
# alone (the supervisor without the app). Runs the real app as users build it (target/app, the `app`
# profile of scripts/run-app.sh; APP_BIN and PADDOCK name other builds) on a private Xvfb
# display with a private session bus and private Paddock dirs, and prints the load average
# beside the figures (the machine may be shared).
# Usage: scripts/app-bench.sh [SECONDS per sample, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
APP_BIN="${APP_BIN:-$ROOT/target/app/paddock-app}"
PADDOCK="${PADDOCK:-$(dirname "$APP_BIN")/paddock}"
SECS="${1:-30}"
[ -x "$APP_BIN" ] && [ -x "$PADDOCK" ] || { echo "error: no $APP_BIN or $PADDOCK: build them first (scripts/run-app.sh builds both into target/app), or set APP_BIN and PADDOCK" >&2; exit 1; }

WORK=$(mktemp -d /tmp/paddock-app-bench-XXXXXX)
for d in run data config home; do mkdir -m 700 "$WORK/$d"; done
printf '[tmux]\nenabled = false\n[server]\nport = 0\n' > "$WORK/config/config.toml"
exec {dfd}<> <(:)
Xvfb -displayfd "$dfd" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
XVFB=$!
read -r -t 20 num <&"$dfd"
exec {dfd}<&-
cleanup() {
  for id in $(PADDOCK_RUNTIME_DIR="$WORK/run" "$PADDOCK" ls --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.load(sys.stdin) if s.get("backend","holder")=="holder"))' 2>/dev/null); do
    PADDOCK_RUNTIME_DIR="$WORK/run" "$PADDOCK" rm --force "$id" >/dev/null 2>&1 || true
  done
  kill "$XVFB" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export DISPLAY=":$num" HOME="$WORK/home" XDG_DATA_HOME="$WORK/home/.local/share"
export PADDOCK_RUNTIME_DIR="$WORK/run" PADDOCK_DATA_DIR="$WORK/data" PADDOCK_CONFIG_DIR="$WORK/config"
export APP_BIN PADDOCK SECS WORK

dbus-run-session -- python3 - <<'PY'
import os, subprocess, time, json, re

app_bin, paddock, secs, work = os.environ["APP_BIN"], os.environ["PADDOCK"], int(os.environ["SECS"]), os.environ["WORK"]
tick = os.sysconf("SC_CLK_TCK")

def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])

def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024 if m else 0.0

def children(pid):
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [(int(p), c) for p, c in (l.split(None, 1) for l in out.strip().splitlines())]

def webkit(pid):
    return [p for p, c in children(pid) if c.startswith("WebKit")]

def sample(pids):
    t0 = {p: cpu_ticks(p) for p in pids}
    time.sleep(secs)
    return {p: (cpu_ticks(p) - t0[p]) / tick / secs * 100 for p in pids}

def wait(what, cond, limit=60):
    end = time.time() + limit
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")

def mapped_window():
    r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Paddock$"], capture_output=True, text=True)
    return r.stdout.strip()

load0 = open("/proc/loadavg").read().split()[:3]

# Cold start to a window on screen (the app started with --open; no other copy runs).
t = time.time()
app = subprocess.Popen([app_bin, "--open"], stderr=open(f"{work}/app.log", "w"))
wait("the app's window", mapped_window)
cold = time.time() - t
app.terminate(); app.wait()

# The app idle in the tray with 20 sessions (bash at a prompt), window closed.
app = subprocess.Popen([app_bin], stderr=open(f"{work}/app.log", "a"))
wait("the embedded supervisor", lambda: subprocess.run([paddock, "status", "--json"], capture_output=True, text=True).stdout.find('"url"') >= 0)
for i in range(20):
    subprocess.run([paddock, "run", "--name", f"bench-{i}", "--", "bash", "--norc", "--noprofile", "-i"], check=True, capture_output=True)
wait("20 sessions", lambda: len([s for s in json.loads(subprocess.run([paddock, "ls", "--json"], capture_output=True, text=True).stdout) if s["name"].startswith("bench-")]) == 20)
time.sleep(5)
closed = sample([app.pid])[app.pid]
closed_rss = rss_mb(app.pid)

# The same with the window open (a second launch asks the first to show its window).
subprocess.run([app_bin], capture_output=True, timeout=30)
wait("the window", mapped_window)
wait("WebKit's processes", lambda: webkit(app.pid))
time.sleep(5)
procs = [app.pid] + webkit(app.pid)
opened = sample(procs)
app_open_rss = rss_mb(app.pid)
webkit_open = [(p, open(f"/proc/{p}/comm").read().strip(), opened[p], rss_mb(p)) for p in procs[1:]]
app.terminate(); app.wait()

# The reference: the same 20 sessions (they outlive the app) under `paddock up` alone, the
# supervisor and endpoint without the app around them, sampled the same way.
up = subprocess.Popen([paddock, "up"], stdout=subprocess.DEVNULL, stderr=open(f"{work}/up.log", "w"))
wait("paddock up", lambda: subprocess.run([paddock, "status", "--json"], capture_output=True, text=True).stdout.find('"url"') >= 0)
wait("20 sessions adopted", lambda: len([s for s in json.loads(subprocess.run([paddock, "ls", "--json"], capture_output=True, text=True).stdout) if s["name"].startswith("bench-") and s.get("state") not in (None, "exited")]) == 20)
time.sleep(5)
up_cpu = sample([up.pid])[up.pid]
up_rss = rss_mb(up.pid)
up.terminate(); up.wait()

print(f"load average before / after: {load0} / {open('/proc/loadavg').read().split()[:3]}")
print(f"cold start to a mapped window: {cold:.2f} s")
print(f"idle, 20 sessions, window closed: app {closed:.2f} % of a core, RSS {closed_rss:.0f} MB")
print(f"idle, 20 sessions, window open:   app {opened[app.pid]:.2f} % of a core, RSS {app_open_rss:.0f} MB")
for p, name, cpu, rss in webkit_open:
    print(f"                                  {name} (pid {p}) {cpu:.2f} % of a core, RSS {rss:.0f} MB")
print(f"reference, the same 20 sessions under `paddock up` alone: {up_cpu:.2f} % of a core, RSS {up_rss:.0f} MB")
PY
