#!/usr/bin/env bash
# shellcheck disable=SC2317  # the step functions are called through step()
# Run the whole libpod.engine test suite (after scripts/setup.sh):
#   lint         ruff on the Python code, shellcheck on the scripts, action group check, generated
#                docs and engine pack up to date
#   unit         pytest tests/unit
#   integration  pytest tests/integration (real ansible-playbook runs on this host, as root)
#   fault        pytest tests/fault: crashes at every step, concurrency, reboots, hostile input (prints a table)
#   sanity       ansible-test sanity (from .build/collections/ansible_collections/libpod/engine)
#   build        ansible-galaxy collection build, and no junk in the tarball
# Exits non-zero if any step fails; a pytest run that collects no tests is a failure.
#
# Environment:
#   LPE_VENV          venv made by setup.sh       (default /opt/libpod-engine/venv)
#   LPE_STEPS         steps to run, space-separated (default: all of the above)
#   LPE_PYTEST_ARGS   extra pytest arguments, e.g. "-x -k volume"
#   LPE_SANITY_ARGS   ansible-test sanity arguments (default: --local = every test, compile and
#                     import on each Python found; "--local --python 3.11" is quicker)
#   LPE_IT_JOBS       integration test files run at a time (default 2 on 2+ cores; 1 = one pytest run)
#   LPE_BACKGROUND    steps run in the background beside the fault suite (default "sanity build";
#                     "" runs every step in turn); their output follows the fault suite's
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LPE_VENV:-/opt/libpod-engine/venv}
COLLECTIONS=$REPO/.build/collections
LINK=$COLLECTIONS/ansible_collections/libpod/engine
RESULTS=$REPO/.build/test-results
STEPS=${LPE_STEPS:-lint unit integration fault sanity build}
read -r -a PYTEST_EXTRA <<< "${LPE_PYTEST_ARGS:-}"
# integration test files run at a time (scripts/pytest_jobs.py; 1 = one pytest run as before)
IT_JOBS=${LPE_IT_JOBS:-$(( $(nproc) >= 2 ? 2 : 1 ))}
# steps that touch no container: run in the background beside the fault suite ("" = in turn)
BACKGROUND=${LPE_BACKGROUND-sanity build}

if [ ! -x "$VENV/bin/python" ] || [ ! -L "$LINK" ]; then
  echo "test: $VENV or $LINK missing: run scripts/setup.sh first" >&2
  exit 2
fi
export PATH="$HOME/.ansible/test/pybin:$VENV/bin:$PATH"
read -r -a SANITY_ARGS <<< "${LPE_SANITY_ARGS:---local}"
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

declare -a SUMMARY=()
FAILED=0
START=$SECONDS

# record NAME RC SECONDS [NOTE]: the outcome of one step, for the summary and the exit code
record() {
  local name=$1 rc=$2 secs=$3 note=${4:-}
  local verdict=ok
  case $rc in
    0) ;;
    5) verdict="FAILED (pytest collected no tests)" ;;
    124) verdict="FAILED (timed out)" ;;
    *) verdict="FAILED (exit $rc)" ;;
  esac
  [ "$rc" -eq 0 ] || FAILED=1
  SUMMARY+=("$(printf '%-12s %-40s %4ds%s' "$name" "$verdict" "$secs" "$note")")
}

# step NAME: run one step in the foreground and record its outcome
step() {
  local name=$1
  printf '\n===== %s\n' "$name"
  local t0=$SECONDS rc=0
  run_step "$name" || rc=$?
  record "$name" "$rc" $((SECONDS - t0))
}

# bg_start NAME...: run these steps one after the other in the background (they touch no
# container, so they can run beside the fault suite); each one's output goes to
# $RESULTS/NAME.log and "rc seconds" to $RESULTS/NAME.rc; bg_collect prints and records them
bg_start() {
  printf '\n===== %s: started in the background (output after the fault suite)\n' "$*"
  (
    for name in "$@"; do
      t0=$SECONDS rc=0
      run_step "$name" >"$RESULTS/$name.log" 2>&1 </dev/null || rc=$?
      echo "$rc $((SECONDS - t0))" >"$RESULTS/$name.rc"
    done
  ) &
  BG_PID=$!
  BG_NAMES=("$@")
}

bg_collect() {
  [ -n "$BG_PID" ] || return 0
  wait "$BG_PID"
  local name rc secs
  for name in "${BG_NAMES[@]}"; do
    printf '\n===== %s (ran in the background)\n' "$name"
    cat "$RESULTS/$name.log" 2>/dev/null
    rc=2 secs=0
    [ -s "$RESULTS/$name.rc" ] && read -r rc secs <"$RESULTS/$name.rc"
    record "$name" "$rc" "$secs" " (background)"
  done
  BG_PID=""
}

lint() {
  timeout 300 ruff check "$REPO" && timeout 60 shellcheck "$REPO"/scripts/*.sh "$REPO/.ci/run" \
    && python "$REPO/scripts/check_action_groups.py" && python "$REPO/scripts/gen_module_docs.py" --check \
    && python "$REPO/scripts/pack_engine.py" --check
}

pytest_dir() {  # pytest_dir NAME DIR PER-TEST-TIMEOUT TOTAL-TIMEOUT [JOBS]
  local name=$1 dir=$2 per_test=$3 limit=$4 jobs=${5:-1}
  if [ -z "$(find "$REPO/$dir" -name 'test_*.py' -print -quit 2>/dev/null)" ]; then
    echo "no test files under $dir"
    return 5
  fi
  if [ "$jobs" -gt 1 ]; then  # one pytest run per file, JOBS files at a time (see the script)
    (cd "$REPO" && timeout -k 30 "$limit" python scripts/pytest_jobs.py --jobs "$jobs" --results "$RESULTS" \
      --name "$name" "$dir" -- -q -ra --timeout="$per_test" --durations=3 "${PYTEST_EXTRA[@]}")
    return
  fi
  (cd "$REPO" && timeout -k 30 "$limit" python -m pytest "$dir" -q -ra --timeout="$per_test" --durations=5 \
    --junitxml="$RESULTS/$name.xml" "${PYTEST_EXTRA[@]}")
}

sanity() {
  # ansible-test wants to run from .../ansible_collections/<ns>/<name>; the link gives
  # that path, and ANSIBLE_TEST_CONTENT_ROOT keeps it (the kernel reports the real cwd).
  # --local, not --venv: delegation would hand the resolved path to the inner ansible-test.
  (cd "$LINK" && ANSIBLE_TEST_CONTENT_ROOT=$LINK timeout -k 30 900 ansible-test sanity --color no "${SANITY_ARGS[@]}")
}

build() {
  local out
  out=$(mktemp -d)
  (cd "$REPO" && timeout 120 ansible-galaxy collection build --force --output-path "$out") || { rm -rf "$out"; return 1; }
  local tarball=("$out"/libpod-engine-*.tar.gz)
  local junk
  junk=$(tar -tzf "${tarball[0]}" | grep -E \
    '^(\.build|\.ci|\.git|\.ansible|\.ruff_cache|\.pytest_cache|\.hypothesis|venv|\.venv|bench/out|tests/output)(/|$)|__pycache__|\.pyc$|\.tar\.gz$')
  echo "$(tar -tzf "${tarball[0]}" | wc -l) entries in $(basename "${tarball[0]}") ($(du -h "${tarball[0]}" | cut -f1))"
  rm -rf "$out"
  if [ -n "$junk" ]; then
    echo "junk in the collection tarball (add it to build_ignore in galaxy.yml):"
    echo "$junk" | head -20
    return 1
  fi
}

run_step() {  # run_step NAME: the step's command
  case $1 in
    lint) lint ;;
    unit) pytest_dir unit tests/unit 300 600 ;;
    integration) pytest_dir integration tests/integration 600 2700 "$IT_JOBS" ;;
    fault) pytest_dir fault tests/fault 600 1800 ;;
    sanity) sanity ;;
    build) build ;;
  esac
}

for s in $STEPS; do
  case $s in
    lint | unit | integration | fault | sanity | build) ;;
    *) echo "test: unknown step $s" >&2; exit 2 ;;
  esac
done

BG_PID="" STARTED=" "
declare -a BG_NAMES=()
for s in $STEPS; do
  case " $STARTED " in *" $s "*) continue ;; esac  # already running in the background
  if [ "$s" = fault ] && [ -n "$BACKGROUND" ]; then
    # the steps of BACKGROUND still to come run beside the fault suite
    declare -a later=()
    seen=0
    for t in $STEPS; do
      [ "$t" = fault ] && seen=1
      if [ $seen -eq 1 ] && [[ " $BACKGROUND " == *" $t "* ]]; then later+=("$t"); fi
    done
    if [ ${#later[@]} -gt 0 ]; then
      bg_start "${later[@]}"
      STARTED+="${later[*]} "
    fi
  fi
  step "$s"
done
bg_collect

printf '\n===== summary (%ds)\n' $((SECONDS - START))
printf '%s\n' "${SUMMARY[@]}"
if [ "$FAILED" -ne 0 ]; then
  echo "test: FAILED"
else
  echo "test: all steps passed"
fi
# Test counts from the pytest runs (JUnit XML), as one closing line.
python - "$RESULTS" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET
tests = failed = skipped = 0
for path in glob.glob(os.path.join(sys.argv[1], '*.xml')):
    root = ET.parse(path).getroot()
    for suite in ([root] if root.tag == 'testsuite' else root.iter('testsuite')):
        tests += int(suite.get('tests', 0))
        failed += int(suite.get('failures', 0)) + int(suite.get('errors', 0))
        skipped += int(suite.get('skipped', 0))
print('pytest: %d passed, %d failed, %d skipped' % (tests - failed - skipped, failed, skipped))
PY
exit "$FAILED"
