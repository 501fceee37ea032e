#!/usr/bin/env bash
# `make run`: start `looptrace serve` in the foreground and, the first time, load the demo traces.
set -euo pipefail
BIN="$(dirname "$0")/../.venv/bin"
SERVER="${LOOPTRACE_SERVER:-http://127.0.0.1:${LOOPTRACE_PORT:-4318}}"

"$BIN/looptrace" serve "$@" &
server_pid=$!
trap 'kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid"' INT TERM

status=0
"$BIN/python" - "$SERVER" <<'PY' || status=$?
import sys, time, urllib.request, json
server = sys.argv[1]
for _ in range(150):
    try:
        urllib.request.urlopen(f"{server}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("looptrace serve did not come up")
# Demo traces from before the demo ran in sessions do not count: the Sessions page needs them.
with urllib.request.urlopen(f"{server}/api/v1/traces?service=looptrace-demo&session=demo-support-chat&limit=1") as r:
    has_demo = bool(json.load(r)["traces"])
sys.exit(10 if has_demo else 0)
PY
if [ "$status" -eq 0 ]; then
  "$BIN/looptrace" demo --server "$SERVER" || echo "demo traces could not be loaded (the server keeps running)"
elif [ "$status" -eq 10 ]; then
  echo "demo traces already loaded; open $SERVER/"
fi
wait "$server_pid"
