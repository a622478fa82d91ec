#!/usr/bin/env bash
# The upgrade test: agents started by an earlier build of Paddock keep running, and the
# current build adopts them and works them. It builds `paddock` and `paddock-holder` of an
# earlier commit (by default the last commit of main whose holders speak protocol 1, the oldest
# version README "Upgrades" claims), starts that build's `paddock up` and, with its
# `paddock run`, a bash loop and an interactive shell; then the current `paddock up` replaces
# the old supervisor (it must say so, naming both builds and the adopted sessions), and the
# current CLI lists both sessions, types into the shell through `send` and through a real
# `attach` in tmux and reads the shell's answers back, reads the loop's output with `logs`,
# kills the loop and removes both.
# The old commit's tree comes from `git archive` into a temp dir (no worktree to clean up);
# it builds in a separate target dir seeded with hard links of this checkout's (`cp -al`),
# from which this workspace's own crates are unlinked first, so that only they compile and
# nothing the old build writes can land in a file the current build shares.
# Usage: scripts/upgrade-test.sh                 (called by scripts/test.sh, after cargo test)
#        UPGRADE_TEST_FROM=<commit> scripts/upgrade-test.sh   (another earlier build)
#        UPGRADE_TEST_BUILD_DIR=<dir> scripts/upgrade-test.sh (keep the earlier build there
#        and reuse it next time, instead of building it in the temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
start=$(date +%s)

# main before 'Merge branch lossless' (protocol 2): the last build whose holders speak v1.
OLD_COMMIT="${UPGRADE_TEST_FROM:-22702562a6925468029d01f687c13aa17428bf01}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK=$(mktemp -d /tmp/paddock-upgrade-XXXXXX)
TMUX_SOCK="$WORK/tmux.sock"

cleanup() {
  local pids=""
  for bin in "${NEW:-}" "${OLD:-}"; do
    [ -x "$bin" ] || continue
    # Whatever supervisor and holders still run in this test's private runtime directory.
    pids="$pids $(env_run "$bin" status --json 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -1)"
  done
  for f in "$WORK"/run/*.json; do
    [ -f "$f" ] || continue
    pids="$pids $(sed -n 's/.*"holder_pid": *\([0-9]*\).*/\1/p' "$f") $(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$f" | head -1)"
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "UPGRADE TEST FAILED: $*" >&2
  for log in "$WORK"/data/logs/supervisor.out "$WORK"/old-up.out "$WORK"/new-up.out; do
    [ -f "$log" ] || continue
    echo "---- $log (last 30 lines)" >&2
    tail -30 "$log" >&2
  done
  exit 1
}

# Every paddock of this test sees only the test's own directories.
env_run() {
  HOME="$WORK/home" PADDOCK_RUNTIME_DIR="$WORK/run" PADDOCK_DATA_DIR="$WORK/data" \
  PADDOCK_CONFIG_DIR="$WORK/config" XDG_CONFIG_HOME="$WORK/home/.config" \
  XDG_DATA_HOME="$WORK/home/.local/share" PADDOCK_LOG=info "$@"
}

# Polls `$@` (a command) until it succeeds, for at most $1 seconds.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$what (waited $secs s)"
    sleep 0.2
  done
}

echo "==> the earlier build: commit $OLD_COMMIT"
if ! git cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null \
  && [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
  # A shallow clone holds no earlier build to start holders with (README, "Upgrades").
  echo "upgrade test NOT RUN: this clone is shallow and lacks commit $OLD_COMMIT; run 'git fetch --unshallow' and run scripts/upgrade-test.sh again" >&2
  exit 0
fi
git cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null \
  || fail "commit $OLD_COMMIT is not in this clone (a shallow clone?); run 'git fetch --unshallow' and try again"
BUILD="${UPGRADE_TEST_BUILD_DIR:-$WORK/build}/$OLD_COMMIT"
build_start=$(date +%s)
if [ ! -x "$BUILD/target/debug/paddock-holder" ]; then
  rm -rf "$BUILD"
  mkdir -p "$BUILD/src"
  git archive "$OLD_COMMIT" | tar -x -C "$BUILD/src"
  if [ -d "$TARGET/debug" ]; then
    mkdir -p "$BUILD/target"
    cp -al "$TARGET/debug" "$BUILD/target/debug"
    # This workspace's crates are rebuilt from the old tree: unlink their outputs so the old
    # build writes new files instead of reusing (or rewriting) the current build's.
    find "$BUILD/target/debug" -maxdepth 2 \( -name 'paddock*' -o -name 'libpaddock*' \) -prune \
      -exec rm -rf {} +
  fi
  (cd "$BUILD/src" && CARGO_TARGET_DIR="$BUILD/target" CARGO_INCREMENTAL=0 \
    cargo build -q -p paddock --bin paddock --bin paddock-holder) \
    || fail "the earlier commit $OLD_COMMIT does not build"
fi
OLD="$BUILD/target/debug/paddock"
old_build_secs=$(( $(date +%s) - build_start ))
echo "    built in ${old_build_secs} s"

echo "==> the current build"
cargo build -q -p paddock --bin paddock --bin paddock-holder
NEW="$TARGET/debug/paddock"

for d in home run data config; do mkdir -m 700 -p "$WORK/$d"; done
# No tmux panes of the machine's owner, no endpoint port to share: only this test's holders.
printf '[tmux]\nenabled = false\n[server]\nenabled = false\n' > "$WORK/config/config.toml"

echo "==> the earlier build's supervisor and two sessions"
env_run "$OLD" up --detach > "$WORK/old-up.out" 2>&1 || fail "the earlier build's 'paddock up --detach' failed: $(cat "$WORK/old-up.out")"
old_pid=$(env_run "$OLD" status --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -1)
[ -n "$old_pid" ] || fail "the earlier build's supervisor does not answer 'paddock status'"
env_run "$OLD" run --name loop -- bash -c 'i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.2; done' >/dev/null \
  || fail "the earlier build's 'paddock run' (loop) failed"
env_run "$OLD" run --name shell -- bash --norc --noprofile -i >/dev/null \
  || fail "the earlier build's 'paddock run' (shell) failed"
old_ls=$(env_run "$OLD" ls)
grep -q loop <<<"$old_ls" && grep -q shell <<<"$old_ls" || fail "the earlier build does not list its own sessions: $old_ls"

echo "==> the current 'paddock up' replaces it"
env_run "$NEW" up --detach > "$WORK/new-up.out" 2>&1 || fail "the current 'paddock up --detach' failed"
cat "$WORK/new-up.out"
# Its sessions: our two, and any agent process of this machine's that it found (external).
adopted=$(sed -n "s/^Replaced the supervisor of paddock .*, pid $old_pid, with paddock .*; its \([0-9]*\) sessions were adopted$/\1/p" "$WORK/new-up.out")
[ -n "$adopted" ] && [ "$adopted" -ge 2 ] \
  || fail "'paddock up' did not say it replaced the supervisor of the earlier build (pid $old_pid) and adopted all its sessions (at least our 2)"
# Gone, or a zombie waiting for its parent (the field after the command in /proc's stat).
case "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$old_pid/stat" 2>/dev/null)" in ""|Z) ;; *) fail "the earlier build's supervisor (pid $old_pid) still runs" ;; esac
status=$(env_run "$NEW" status --json)
grep -q "\"pid\": *$old_pid," <<<"$status" && fail "'paddock status' still answers from the earlier supervisor"
grep -q '"protocol":' <<<"$status" || fail "the current supervisor does not say its protocol: $status"

echo "==> the current CLI works the earlier build's holders"
ls_json=$(env_run "$NEW" ls --json) || fail "'paddock ls' failed"
for name in loop shell; do
  grep -q "\"name\": *\"$name\"" <<<"$ls_json" || fail "'paddock ls' does not list '$name': $ls_json"
done
holder_of() { sed -n 's/.*"holder_pid": *\([0-9]*\).*/\1/p' "$WORK"/run/*.json | sort -u; }
[ "$(holder_of | wc -l)" -eq 2 ] || fail "expected the 2 holders of the earlier build, found: $(holder_of)"
for hp in $(holder_of); do
  exe=$(readlink "/proc/$hp/exe" 2>/dev/null || true)
  case "$exe" in "$BUILD/target/"*) ;; *) fail "holder $hp is not the earlier build's ($exe)" ;; esac
done

# send: the shell computes the answer, so finding it proves the keys reached the shell.
env_run "$NEW" send --enter shell 'echo "sent-$((6*7))"' || fail "'paddock send' into the shell failed"
wait_for 10 "the shell's answer to 'send' (sent-42) is not in 'paddock logs shell'" \
  bash -c "$(declare -f env_run); WORK='$WORK'; env_run '$NEW' logs shell | grep -q sent-42"

# attach, in a real terminal (tmux): type, read the answer on the screen, detach with Ctrl-\.
tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 100 -y 30 \
  "env HOME='$WORK/home' PADDOCK_RUNTIME_DIR='$WORK/run' PADDOCK_DATA_DIR='$WORK/data' PADDOCK_CONFIG_DIR='$WORK/config' '$NEW' attach shell; echo attach-ended; sleep 30"
sleep_until_screen() {
  local want=$1 deadline=$(( $(date +%s) + 10 ))
  until tmux -S "$TMUX_SOCK" capture-pane -p | grep -q "$want"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "'$want' never showed in the attached terminal: $(tmux -S "$TMUX_SOCK" capture-pane -p)"
    sleep 0.2
  done
}
sleep_until_screen 'sent-42'
tmux -S "$TMUX_SOCK" send-keys -l 'echo "attached-$((5*5))"'
tmux -S "$TMUX_SOCK" send-keys Enter
sleep_until_screen 'attached-25'
tmux -S "$TMUX_SOCK" send-keys 'C-\'
sleep_until_screen 'attach-ended'
env_run "$NEW" logs shell | grep -q attached-25 || fail "what was typed through 'attach' is not in the shell's log"

# logs: the loop printed under the old supervisor and goes on printing under the new one.
ticks() { env_run "$NEW" logs loop | sed -n 's/^tick \([0-9]*\).*/\1/p' | tail -1; }
first=$(ticks); [ -n "$first" ] || fail "'paddock logs loop' shows no ticks"
wait_for 10 "the loop stopped printing after the upgrade (last tick $first)" \
  bash -c "[ \"\$($(declare -f env_run); WORK='$WORK'; env_run '$NEW' logs loop | sed -n 's/^tick \([0-9]*\).*/\1/p' | tail -1)\" -gt $first ]"

# logs --follow --raw into a pipe: this build passes its pipe with the hello; the earlier
# holder reads hellos with plain reads (the kernel drops the descriptor) and answers without
# `sink`, so logs relays the output frames itself, as before. Live ticks must come through.
now=$(ticks)
follow_live() {
  timeout 30 bash -c "$(declare -f env_run); WORK='$WORK'; env_run '$NEW' logs --follow --raw loop 2>'$WORK/follow.err' | grep -a -m1 -q '^tick $((now + 3))'"
}
follow_live || fail "'paddock logs --follow --raw loop | grep' did not see tick $((now + 3)) from the earlier build's holder: $(cat "$WORK/follow.err" 2>/dev/null)"

# kill: the supervisor sees the loop exit; rm removes both sessions.
env_run "$NEW" kill loop || fail "'paddock kill loop' failed"
wait_for 10 "the loop is still listed as running after 'paddock kill'" \
  bash -c "$(declare -f env_run); WORK='$WORK'; env_run '$NEW' ls --json | tr -d '\n ' | grep -o '\"name\":\"loop\"[^}]*' | grep -q '\"state\":\"exited\"'"
env_run "$NEW" rm --force loop shell || fail "'paddock rm' of the earlier build's sessions failed"
wait_for 10 "the sessions are still listed after 'paddock rm'" \
  bash -c "! { $(declare -f env_run); WORK='$WORK'; env_run '$NEW' ls --json | grep -q '\"name\": *\"\(loop\|shell\)\"'; }"

echo "==> upgrade test passed in $(( $(date +%s) - start )) s (the earlier build: ${old_build_secs} s)"
