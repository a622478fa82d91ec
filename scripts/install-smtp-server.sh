#!/usr/bin/env bash
# The SMTP server the email channel's tests talk to: aiosmtpd (pinned, from PyPI) in a venv
# under the cache directory, made once per machine (about 10 s). The tests look for it at
# the same path (crates/channels/tests/loopback/email.rs).
# Usage: scripts/install-smtp-server.sh
set -euo pipefail

VERSION=1.4.6
CACHE=${PADDOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paddock}
VENV="$CACHE/aiosmtpd-$VERSION"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  exit 0
fi
echo "==> installing aiosmtpd $VERSION into $VENV"
python3 -m venv "$VENV" || {
  echo "error: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2
  exit 1
}
"$VENV/bin/pip" install -q "aiosmtpd==$VERSION"
