#!/usr/bin/env bash
# Checks that the README's "Fuzzing" table and fuzz/Cargo.toml name the same cargo-fuzz
# targets, and that each target's source file exists: the README must not claim a target
# that does not exist (nor leave one out). Takes well under a second; builds nothing.
#
#   scripts/check-fuzz-targets.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The first column of the table in the "## Fuzzing" section: | `name` | ... |
readme=$(awk '/^## /{in_section = ($0 == "## Fuzzing")} in_section' README.md |
    sed -n 's/^| `\([a-z0-9_]*\)` |.*/\1/p' | sort)
# The [[bin]] names of fuzz/Cargo.toml.
cargo=$(awk '/^\[\[bin\]\]/{in_bin = 1; next} /^\[/{in_bin = 0}
    in_bin && /^name *=/{gsub(/^name *= *"|".*$/, ""); print}' fuzz/Cargo.toml | sort)

status=0
if [ -z "$readme" ]; then
    echo "error: found no target in the table of README.md's \"## Fuzzing\" section" >&2
    exit 1
fi
for t in $readme; do
    if ! grep -qx "$t" <<<"$cargo"; then
        echo "error: README.md's Fuzzing table names the target '$t', but fuzz/Cargo.toml has no [[bin]] of that name: add the target or remove its row" >&2
        status=1
    fi
done
for t in $cargo; do
    if ! grep -qx "$t" <<<"$readme"; then
        echo "error: fuzz/Cargo.toml declares the target '$t', but README.md's Fuzzing table has no row for it: describe it there" >&2
        status=1
    fi
    path=$(awk -v t="$t" '/^\[\[bin\]\]/{name = ""} /^name *=/{n = $0; gsub(/^name *= *"|".*$/, "", n); name = n}
        /^path *=/ && name == t {p = $0; gsub(/^path *= *"|".*$/, "", p); print p}' fuzz/Cargo.toml)
    if [ -z "$path" ] || [ ! -f "fuzz/$path" ]; then
        echo "error: fuzz/Cargo.toml's target '$t' has no source file (path '${path:-none}' under fuzz/)" >&2
        status=1
    fi
done
if [ "$status" -eq 0 ]; then
    echo "fuzz targets: $(wc -w <<<"$readme") in README.md and fuzz/Cargo.toml, all with sources"
fi
exit "$status"
