#!/usr/bin/env bash
# Installs the real agent CLIs the tests drive, at the exact versions in
# scripts/agent-versions.env, into a per-machine cache (once: a second run only checks them):
#
#   @anthropic-ai/claude-code  ->  $PADDOCK_AGENTS_DIR/claude-code-<version>/
#   @openai/codex              ->  $PADDOCK_AGENTS_DIR/codex-<version>/
#   @google/gemini-cli         ->  $PADDOCK_AGENTS_DIR/gemini-cli-<version>/ (needs Node.js 20+)
#
# PADDOCK_AGENTS_DIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/paddock/agents. Each package
# is a native binary of about 400 MB fetched from the npm registry. A package is installed into
# a temporary folder beside its final place and renamed into place only once it runs, so an
# interrupted install never leaves a half package behind; concurrent runs wait on a lock.
#
# Usage: scripts/install-agents.sh           install what is missing, print the binaries
#        scripts/install-agents.sh --check   install nothing; exit 1 naming what is missing
# Prints one line per agent: `claude=/path/to/claude`, `codex=/path/to/codex`, `gemini=...`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=agent-versions.env
. "$here/agent-versions.env"

check_only=0
case "${1:-}" in
  "") ;;
  --check) check_only=1 ;;
  -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown argument '$1' (try --check or --help)" >&2; exit 2 ;;
esac

cache="${PADDOCK_AGENTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paddock/agents}"

# install <npm package> <version> <folder name> <binary name>
install_one() {
  local pkg="$1" version="$2" name="$3" bin="$4"
  local dest="$cache/$name-$version"
  local exe="$dest/node_modules/.bin/$bin"
  if [ -x "$exe" ]; then
    echo "$bin=$exe"
    return 0
  fi
  if [ "$check_only" = 1 ]; then
    echo "error: $pkg@$version is not installed in $dest; run scripts/install-agents.sh" >&2
    return 1
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is needed to install $pkg; install Node.js 18 or newer (e.g. apt-get install nodejs npm) and run this again" >&2
    return 1
  fi
  mkdir -p "$cache"
  # One installer at a time per package; whoever waited finds it installed.
  exec 9>"$cache/.$name.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if [ -x "$exe" ]; then
    exec 9>&-
    echo "$bin=$exe"
    return 0
  fi
  local tmp
  tmp="$(mktemp -d "$cache/.$name-$version.XXXXXX")"
  echo "==> installing $pkg@$version into $dest (about 400 MB, once per machine)" >&2
  if ! npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error \
      "$pkg@$version" >&2; then
    rm -rf "$tmp"
    echo "error: npm could not install $pkg@$version (is https://registry.npmjs.org reachable?)" >&2
    return 1
  fi
  if ! "$tmp/node_modules/.bin/$bin" --version >/dev/null 2>&1; then
    "$tmp/node_modules/.bin/$bin" --version >&2 || true
    rm -rf "$tmp"
    echo "error: $pkg@$version installed but '$bin --version' fails on this machine" >&2
    return 1
  fi
  rm -rf "$dest"
  mv -T "$tmp" "$dest"
  exec 9>&-
  echo "$bin=$exe"
}

status=0
install_one @anthropic-ai/claude-code "$CLAUDE_CODE_VERSION" claude-code claude || status=1
install_one @openai/codex "$CODEX_VERSION" codex codex || status=1
# --- begin: Gemini CLI (issue 15, item 4) ---
# Gemini CLI is a Node program (engines: node >= 20); an older node would install it and then
# fail at its first line, so say so first, with what to do.
gemini_node_ok() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -lt 20 ]; then
    echo "error: @google/gemini-cli@$GEMINI_CLI_VERSION needs Node.js 20 or newer; this machine has $(node --version 2>/dev/null || echo 'no node'). Install a newer Node.js (e.g. from https://nodejs.org or NodeSource) and run this again" >&2
    return 1
  fi
}
if [ "$check_only" = 1 ] || gemini_node_ok; then
  install_one @google/gemini-cli "$GEMINI_CLI_VERSION" gemini-cli gemini || status=1
else
  status=1
fi
# --- end: Gemini CLI ---
exit $status
