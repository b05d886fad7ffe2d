#!/usr/bin/env bash
# Set up a Debian 12 host (run as root) to use, demo and test libpod.engine:
#   1. system packages (conmon, OCI runtimes, networking tools, test tools),
#   2. a Python venv with ansible-core, the managed-node libraries and the test tools,
#   3. the collection made visible to Ansible (<repo>/.build/collections),
#   4. ansible-test's offline bootstrap (get-pip stand-in, real interpreters on PATH).
# Idempotent: a second run only checks and takes a few seconds.
#
# Environment:
#   LPE_VENV    venv directory            (default /opt/libpod-engine/venv)
#   LPE_PYTHON  interpreter for the venv  (default python3; needs >= 3.11 for ansible-core 2.19)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LPE_VENV:-/opt/libpod-engine/venv}
PYTHON=${LPE_PYTHON:-python3}
COLLECTIONS=$REPO/.build/collections
LINK=$COLLECTIONS/ansible_collections/libpod/engine
START=$SECONDS

APT_PACKAGES=(
  conmon runc crun catatonit     # container monitor, OCI runtimes, init for containers
  nftables iproute2              # networking: port publishing, bridges/veths/netns
  aardvark-dns                   # container DNS per network (netavark's DNS server)
  passt slirp4netns uidmap fuse-overlayfs  # rootless: networking, newuidmap/newgidmap, overlay in a userns
  python3-zstandard              # zstd image layers for Debian's python3 (the venv gets zstandard from pip)
  python3-ruamel.yaml python3-jsonschema python3-tomlkit  # Debian's python3 runs the modules
                                 # of unprivileged users (rootless tests): the venv links into /root (0700)
  busybox-static docker-registry # tests: images without a registry, a local registry for pulls
  openssl                        # tests: a CA and a server certificate for the TLS registry
  podman                         # tests/bench only: interop (podman load/save) and the peer's runtime
  iptables                       # bench only: the peer's netavark drives iptables (bench/bench_network.py)
  valgrind                       # bench only: instruction counts of a module process (bench/bench_task_instructions.py)
  shellcheck python3-venv git    # ansible-test shellcheck, venv module for Debian's python3, git for ansible-test
)

say() { printf 'setup: %s\n' "$*"; }

# --- 1. system packages ------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  say "apt: all ${#APT_PACKAGES[@]} packages present"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: must run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  say "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep package scripts from starting services (docker-registry): tests start their own.
  policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_created=1
  fi
  rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null; } || rc=$?
  [ "$policy_created" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ "$rc" -ne 0 ]; then
    echo "setup: apt-get failed (exit $rc)" >&2
    exit "$rc"
  fi
fi
for tool in conmon runc crun busybox; do
  command -v "$tool" >/dev/null || { echo "setup: $tool not found on PATH after install" >&2; exit 1; }
done

# --- 2. Python venv ----------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" - <<'PY' || { echo "setup: $PYTHON is too old: ansible-core 2.19 needs Python >= 3.11 (set LPE_PYTHON)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
  say "venv: creating $VENV with $("$PYTHON" -c 'import sys; print(sys.executable)')"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi
# Re-install only when the requirement files or the interpreter changed.
stamp_want=$(cat "$REPO/requirements.txt" "$REPO/requirements-dev.txt" <("$VENV/bin/python" -VV) | sha256sum | cut -d' ' -f1)
stamp_file=$VENV/.libpod-engine-requirements
if [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp_want" ] \
   && "$VENV/bin/python" -c 'import ansible, ansible_test, jsonschema, ruamel.yaml, tomlkit, pytest, pytest_timeout, hypothesis' 2>/dev/null; then
  say "venv: $VENV up to date"
else
  say "venv: pip install -r requirements-dev.txt"
  rm -f "$stamp_file"
  # (pip.conf here may name absent local find-links dirs: drop those warnings, keep the rest)
  (cd "$REPO" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1) \
    | sed "/^WARNING: Location 'file:.* is ignored/d"
  echo "$stamp_want" > "$stamp_file"
fi
say "venv: $("$VENV/bin/ansible" --version | sed -n 1p), $("$VENV/bin/python" -V)"  # sed reads all: no broken pipe

# --- 3. the collection as ansible_collections/libpod/engine -----------------------------
if [ -e "$LINK" ] && [ ! -L "$LINK" ]; then
  echo "setup: $LINK exists and is not a symlink; remove it" >&2
  exit 1
fi
if [ "$(readlink "$LINK" 2>/dev/null)" != "$REPO" ]; then
  mkdir -p "$(dirname "$LINK")"
  ln -sfn "$REPO" "$LINK"
  say "collection: linked $LINK -> $REPO"
else
  say "collection: $LINK -> $REPO"
fi

# --- 4. ansible-test offline bootstrap ----------------------------------------------
# ansible-test bootstraps pip in each venv it makes by downloading get-pip.py from a host
# this machine cannot reach; seed its cache with a stand-in that uses ensurepip + pip.
pip_version=$("$VENV/bin/python" - <<'PY'
import os, re, ansible_test
path = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
with open(path, encoding='utf-8') as f:
    print(re.search(r"pip='([0-9.]+)'", f.read()).group(1))
PY
)
cache_dir=$HOME/.ansible/test/cache
getpip=$cache_dir/get_pip_${pip_version//./_}.py
mkdir -p "$cache_dir"
getpip_text=$(cat <<'PY'
"""Offline stand-in for get-pip.py, written by libpod.engine scripts/setup.sh.

ansible-test runs this to put pip into a fresh venv; use the interpreter's bundled
ensurepip, then pip itself for the requested packages (from the configured index).
"""
import ensurepip
import os
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
ensurepip.bootstrap(upgrade=True)
# ensurepip leaves PIP_CONFIG_FILE=/dev/null behind, which would hide /etc/pip.conf.
env = {k: v for k, v in os.environ.items() if k not in ('PIP_CONFIG_FILE', 'ENSUREPIP_OPTIONS')}
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check'] + args, env=env))
PY
)
if [ "$(cat "$getpip" 2>/dev/null)" != "$getpip_text" ]; then
  printf '%s\n' "$getpip_text" > "$getpip"
  say "ansible-test: wrote pip $pip_version bootstrap stand-in $getpip"
else
  say "ansible-test: pip $pip_version bootstrap stand-in present"
fi
# pyenv's python3.X shims fail unless that version is active; ansible-test needs the real ones.
pybin=$HOME/.ansible/test/pybin
mkdir -p "$pybin"
linked=()
for d in "$HOME"/.pyenv/versions/3.*; do
  [ -d "$d" ] || continue
  m=$(basename "$d" | cut -d. -f1,2)
  if [ -x "$d/bin/python$m" ]; then
    [ "$(readlink "$pybin/python$m" 2>/dev/null)" = "$d/bin/python$m" ] || ln -sfn "$d/bin/python$m" "$pybin/python$m"
    linked+=("$m")
  fi
done
if [ ${#linked[@]} -gt 0 ]; then
  say "ansible-test: real interpreters in $pybin: ${linked[*]}"
fi

say "done in $((SECONDS - START)) s; to use by hand:"
say "  export PATH=$pybin:$VENV/bin:\$PATH ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS"
