#!/usr/bin/env bash
# How fast a tmux pane's output can be read from outside tmux, three ways, in one run:
#   none       nobody reads it: tmux only parses the output into the pane (the ceiling)
#   pipe-pane  `pipe-pane -O 'cat > FIFO'` and a reader on the FIFO (what the tmux bridge uses)
#   control    a `tmux -C attach` client reading `%output` lines
#   bridge     end to end through Paddock's tmux bridge: pipe-pane, the holder's ring, and a
#              `paddock logs --follow --raw` client (only when $PADDOCK names a paddock
#              binary; use a release build)
# Each case runs `cat` of the same file (base64 text in 100-column lines) in a 200x50 pane
# and times it until a marker printed after the file arrives. Usage:
#   [PADDOCK=target/release/paddock] scripts/tmux-throughput.sh [MiB]    (default 64)
# The figures are in docs/design/holder.md ("tmux bridges").
set -euo pipefail

MIB=${1:-64}
dir=$(mktemp -d /tmp/pdk-tmuxtp.XXXXXX)
sock=$dir/sock
cleanup() {
    if [ -n "${PADDOCK:-}" ]; then
        PADDOCK_RUNTIME_DIR="$dir/rt" "$PADDOCK" rm --force tp >/dev/null 2>&1 || true
    fi
    tmux -S "$sock" kill-server 2>/dev/null || true
    exec 3>&- 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

head -c $((MIB * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 100 >"$dir/corpus"
tmux -S "$sock" -f /dev/null new-session -d -s tp -x 200 -y 50 'PS1="$ " bash --norc --noprofile -i'
until tmux -S "$sock" capture-pane -p -t tp | grep -q '\$'; do sleep 0.05; done

now() { date +%s.%N; }
rate() { awk -v mib="$MIB" -v a="$1" -v b="$2" 'BEGIN { printf "%.1f MiB/s (%.2f s)", mib / (b - a), b - a }'; }
n=0
# Types `cat corpus; MARKER` into the pane; the marker is computed by the shell so that the
# echo of the typed line never matches.
run_cat() {
    n=$((n + 1))
    tmux -S "$sock" send-keys -t tp "cat $dir/corpus; echo DONE-\$((1000+$n)); tmux -S $sock wait-for -S done$n" Enter
}
marker() { echo "DONE-$((1000 + n))"; }

# 1. Nobody reading.
start=$(now)
run_cat
tmux -S "$sock" wait-for "done$n"
echo "none:      $(rate "$start" "$(now)")"

# 2. pipe-pane into a FIFO.
mkfifo -m 600 "$dir/fifo"
tmux -S "$sock" pipe-pane -O -t tp "exec cat > $dir/fifo"
want="DONE-$((1000 + n + 1))"
start=$(now)
run_cat
grep -a -m1 -q "$want" <"$dir/fifo"
echo "pipe-pane: $(rate "$start" "$(now)")"
tmux -S "$sock" pipe-pane -t tp
tmux -S "$sock" wait-for "done$n"

# 3. A control-mode client.
mkfifo "$dir/ctl"
tail -f /dev/null >"$dir/ctl" &
holder=$!
want="DONE-$((1000 + n + 1))"
# %output escapes only bytes below 0x20 and `\`; the marker passes through as is.
(tmux -S "$sock" -C attach -t tp <"$dir/ctl" | {
    grep -a -m1 -q "$want"
    now >"$dir/end"
    tmux -S "$sock" detach-client -s tp
}) &
reader=$!
until [ -n "$(tmux -S "$sock" list-clients -F '#{client_control_mode}' 2>/dev/null)" ]; do sleep 0.05; done
start=$(now)
run_cat
wait "$reader" || true
echo "control:   $(rate "$start" "$(cat "$dir/end")")"
tmux -S "$sock" wait-for "done$n"
kill "$holder" 2>/dev/null || true

# 4. Through a tmux bridge, to a `logs --follow --raw` client.
if [ -n "${PADDOCK:-}" ]; then
    export PADDOCK_RUNTIME_DIR="$dir/rt"
    id=$("$PADDOCK" tmux-attach --socket "$sock" --name tp tp)
    want="DONE-$((1000 + n + 1))"
    rm -f "$dir/end"
    ("$PADDOCK" logs --follow --raw "$id" | {
        grep -a -m1 -q "$want"
        now >"$dir/end"
    }) &
    reader=$!
    until [ "$("$PADDOCK" ls --json | grep -c '"clients": 1')" = 1 ]; do sleep 0.05; done
    start=$(now)
    run_cat
    until [ -s "$dir/end" ]; do sleep 0.01; done
    echo "bridge:    $(rate "$start" "$(cat "$dir/end")")"
    tmux -S "$sock" wait-for "done$n"
    "$PADDOCK" rm tp >/dev/null
    wait "$reader" || true
fi
