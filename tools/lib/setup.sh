# shellcheck shell=bash
# tools/lib/setup.sh -- helpers shared by tools/test and tools/quickstart (sourced, not run).
#
#   asiopg_install_deps     install the missing Debian packages (quiet no-op when none are)
#   asiopg_start_cluster    start tools/pg-cluster and export its env (PGHOST, PGPORT,
#                           PGUSER, PGPASSWORD, PGDATABASE, ASIOPG_TEST_SOCKET_DIR);
#                           the cluster is stopped again when the script exits
#   asiopg_stop_cluster     stop it now, quietly (only if asiopg_start_cluster started it)
#   asiopg_b2 LOG ARGS...   run `b2 -j2 ARGS` from the repo root with time limits, full
#                           output to LOG, a readable view on stdout; returns b2's status
#
# Sets ASIOPG_ROOT (the repo root, parent of tools/) and traps EXIT, INT and TERM.

ASIOPG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Exactly the Boost 1.81 pieces we use: libboost-all-dev / the 1.74 -dev packages
# conflict with 1.81 and must never be pulled in.
ASIOPG_DEPS=(
  g++ libpq-dev postgresql-15 openssl   # openssl: the test cluster's TLS certificate
  libboost1.81-dev libboost1.81-tools-dev
  libboost-log1.81-dev libboost-test1.81-dev libboost-context1.81-dev
  libboost-json1.81-dev libboost-thread1.81-dev libboost-system1.81-dev libboost-url1.81-dev
  python3                               # tools/fault-proxy, tools/doc-snippets
  cmake pkg-config                      # tools/check-install: consumers of the installed package
  curl apache2-utils                    # example/http_service/check: requests and a load test (ab)
  pgbouncer                             # tools/pgbouncer: the PgBouncer tests
  clang-14 libclang-rt-14-dev           # tools/fuzz: libFuzzer
)

asiopg_install_deps() {
  command -v dpkg-query >/dev/null || { echo "setup: dpkg-query not found: only Debian/Ubuntu is supported" >&2; return 1; }
  local p missing=()
  for p in "${ASIOPG_DEPS[@]}"; do
    # shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not a shell variable
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "setup: missing packages (${missing[*]}), not root and no sudo" >&2; return 1; }
    sudo=(sudo -n) # -n: never prompt, there may be no terminal (CI has no stdin)
  fi
  echo "setup: installing ${missing[*]}"
  # </dev/null: apt and the maintainer scripts must never wait for input.
  "${sudo[@]}" apt-get update -qq </dev/null || { echo "setup: apt-get update failed" >&2; return 1; }
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
    install -y -qq "${missing[@]}" </dev/null || { echo "setup: apt-get install failed" >&2; return 1; }
}

# ---------------------------------------------------------------- cluster
ASIOPG_CLUSTER_STARTED=0

asiopg_stop_cluster() {
  ((ASIOPG_CLUSTER_STARTED)) || return 0
  ASIOPG_CLUSTER_STARTED=0
  "$ASIOPG_ROOT/tools/pg-cluster" stop >/dev/null 2>&1 || true
}

# A cluster that was already running (a developer's) is used and left running; one
# started here is stopped at exit, on success and on failure (EXIT trap below).
asiopg_start_cluster() {
  local cluster=$ASIOPG_ROOT/tools/pg-cluster
  if "$cluster" status >/dev/null 2>&1; then
    echo "setup: using the test cluster that is already running (left running)"
  else
    ASIOPG_CLUSTER_STARTED=1
    "$cluster" start >/dev/null || return 1
  fi
  local env_lines
  env_lines=$("$cluster" env) || return 1
  eval "$env_lines"
}

# ---------------------------------------------------------------- b2
# Readable view of b2's output (the log keeps everything):
#  - drop the "<action> <target>" header b2 prints for every action (noise on success;
#    a failure is still named by its "...failed <action> <target>..." line);
#  - keep compiler errors and the output of failing tests, which b2 prints between
#    ====== BEGIN OUTPUT ====== and ====== END OUTPUT ======, but drop the shell script
#    b2 dumps after a failed one (blank, indented and "export" lines).
# ASIOPG_VERBOSE=1 shows everything.
asiopg_b2_filter() {
  if [[ ${ASIOPG_VERBOSE:-0} == 1 ]]; then cat; return; fi
  awk '
    skip { if (/^$/ || /^[ \t]/ || /^export /) next; skip = 0 }
    /^====== END OUTPUT ======$/ || / second time limit exceeded$/ { print; fflush(); skip = 1; next }
    /^(gcc|clang|clang-linux|testing|common|link)\.[A-Za-z0-9_.+-]+ [^ ]+$/ { next }
    { print; fflush() }'
}

ASIOPG_B2_SID_FILE=

# b2 starts each action in a process group of its own, so neither `timeout` nor a
# Ctrl-C reaches a hung test program.  b2 therefore runs in a session of its own,
# and whatever is still in that session when b2 ends (normally nothing) is killed.
asiopg_kill_b2_session() {
  local sid
  [[ -n $ASIOPG_B2_SID_FILE ]] || return 0
  sid=$(cat "$ASIOPG_B2_SID_FILE" 2>/dev/null || true)
  if [[ $sid =~ ^[0-9]+$ ]] && ((sid > 1)) && pgrep -s "$sid" >/dev/null 2>&1; then
    echo "setup: killing what b2 left running: $(pgrep -s "$sid" | tr '\n' ' ')"
    pkill -KILL -s "$sid" || true
  fi
}

# Time limits: one b2 run may take ASIOPG_B2_TIMEOUT s (default 1500); one action (a
# compile, one test program) ASIOPG_B2_ACTION_TIMEOUT s (default 900, b2 -l), so a
# hung test fails alone instead of eating the whole run.
asiopg_b2() {
  local log=$1
  shift
  mkdir -p "$(dirname "$log")"
  local tmp rc
  tmp=$(mktemp -d)
  ASIOPG_B2_SID_FILE=$tmp/sid
  # In the background + wait: bash runs a trap (Ctrl-C, TERM) only once the foreground
  # command is done, but interrupts a `wait` at once.
  # shellcheck disable=SC2016  # $$ is the inner bash's pid = the new session's id
  (
    cd "$ASIOPG_ROOT" || exit 1
    rc=0
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$ASIOPG_B2_SID_FILE" \
      timeout -k 30 "${ASIOPG_B2_TIMEOUT:-1500}" \
      b2 -j2 -l "${ASIOPG_B2_ACTION_TIMEOUT:-900}" "$@" </dev/null 2>&1 || rc=$?
    echo "$rc" >"$tmp/rc"
  ) | tee "$log" | asiopg_b2_filter &
  wait $! || true
  rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
  asiopg_kill_b2_session
  ASIOPG_B2_SID_FILE=
  rm -rf "$tmp"
  return "$rc"
}

# ---------------------------------------------------------------- exit
asiopg_cleanup() {
  if [[ -n $ASIOPG_B2_SID_FILE ]]; then # interrupted during a b2 run
    asiopg_kill_b2_session
    rm -rf "$(dirname "$ASIOPG_B2_SID_FILE")"
  fi
  asiopg_stop_cluster
}
trap asiopg_cleanup EXIT
# Without these, a signal would end the script without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM
