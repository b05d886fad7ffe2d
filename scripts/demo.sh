#!/usr/bin/env bash
# Run the demo playbook (playbooks/demo.yml) on localhost, twice: the second run must
# report changed=0 (every libpod.engine module is idempotent). Run scripts/setup.sh first.
#   LPE_VENV  venv made by setup.sh (default /opt/libpod-engine/venv)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LPE_VENV:-/opt/libpod-engine/venv}
COLLECTIONS=$REPO/.build/collections
if [ ! -x "$VENV/bin/ansible-playbook" ] || [ ! -L "$COLLECTIONS/ansible_collections/libpod/engine" ]; then
  echo "demo: run scripts/setup.sh first" >&2
  exit 2
fi
export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== demo: first run"
ansible-playbook "$REPO/playbooks/demo.yml" </dev/null
echo
echo "== demo: second run (must change nothing)"
ansible-playbook "$REPO/playbooks/demo.yml" </dev/null | tee "$log"
recap=$(grep -E '^localhost +:' "$log" || true)
if ! grep -q ' changed=0 ' <<< "$recap"; then
  echo "demo: the second run changed something: $recap" >&2
  exit 1
fi
echo "demo: second run changed=0"
