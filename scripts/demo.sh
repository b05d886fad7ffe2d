#!/usr/bin/env bash
# Run the demo playbook (playbooks/demo.yml) on localhost, twice: the host role prepares this
# machine, a busybox image is built from busybox-static without a registry, and the stack role
# starts a pod publishing 127.0.0.1:$LPE_DEMO_PORT with a busybox httpd serving a page from a
# volume. The second run must report changed=0. Run scripts/setup.sh first (as root).
#   LPE_VENV       venv made by setup.sh (default /opt/libpod-engine/venv)
#   LPE_DEMO_PORT  host port of the web server (default 8080)
# Remove the demo with: ansible-playbook playbooks/demo-remove.yml (same environment).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LPE_VENV:-/opt/libpod-engine/venv}
PORT=${LPE_DEMO_PORT:-8080}
COLLECTIONS=$REPO/.build/collections
if [ ! -x "$VENV/bin/ansible-playbook" ] || [ ! -L "$COLLECTIONS/ansible_collections/libpod/engine" ]; then
  echo "demo: run scripts/setup.sh first" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (the engine runs containers as root)" >&2
  exit 2
fi
export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
  ansible-playbook -i localhost, "$REPO/playbooks/demo.yml" -e "demo_port=$PORT" </dev/null
}

echo "== demo: first run"
run
echo
echo "== demo: second run (must change nothing)"
run | tee "$log"
recap=$(grep -E '^localhost +:' "$log" || true)
if ! grep -q ' changed=0 ' <<< "$recap"; then
  echo "demo: the second run changed something: $recap" >&2
  exit 1
fi
echo "demo: second run changed=0"
echo
echo "== the page on http://127.0.0.1:$PORT/"
"$VENV/bin/python" - "$PORT" <<'PY'
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=5) as r:
    print(r.read().decode().rstrip())
PY
cat <<EOF

The demo stack runs (pod demo, container demo-web, volume demo-site). Look at it:
  curl http://127.0.0.1:$PORT/
  export PATH=$VENV/bin:\$PATH ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
  ansible localhost -m libpod.engine.pod_info -a name=demo
  ansible localhost -m libpod.engine.container_info -a name=demo-web
Remove it:
  ansible-playbook $REPO/playbooks/demo-remove.yml
EOF
