#!/usr/bin/env bash
# Run Chat's test suite on a fresh machine (Debian 12), e.g. `./test.sh`.
#
# The tests need MariaDB and Redis. If a Docker engine answers, the test
# fixture starts them itself with Testcontainers. Otherwise this script
# installs mariadb-server and redis-server with apt-get (only if missing),
# starts PRIVATE instances on 127.0.0.1 under a temporary directory (never the
# system services), exports their addresses to the tests, runs `dotnet test`
# and stops/removes everything again on exit, including on failure or Ctrl-C.
# The servers are started by scripts/lib.sh (start_private_mariadb,
# start_private_redis), the same bootstrap scripts/cluster.sh uses.
#
# Environment knobs:
#   CHAT_TEST_MYSQL_PORT=13306     first port tried for MariaDB (next free one is used)
#   CHAT_TEST_REDIS_PORT=16379     first port tried for Redis   (next free one is used)
#   CHAT_TEST_LOCAL_SERVICES=1     start the private servers even if Docker answers
#   CHAT_TEST_DRY_RUN=1            instead of `dotnet test`, only check that both
#                                  servers accept the test credentials
#   CHAT_TEST_CLUSTER=0|1          run the cluster smoke test and the browser test afterwards
#                                  (default: 1, or 0 when the arguments include --filter)
# Extra arguments are passed to `dotnet test` (e.g. ./test.sh --filter Redis).
#
# Four stages, one summary:
#   1. `dotnet test` over the solution with --filter "Category!=Cluster" (added only when the arguments hold no
#      --filter of their own);
#   2. the cluster smoke test (Category=Cluster): scripts/cluster.sh starts two API instances behind nginx, with
#      their own MariaDB and Redis, and Prometheus beside them (`scripts/cluster.sh metrics`), under this run's
#      temporary directory on free loopback ports, and stops them on exit; the tests include floods of nginx's edge;
#   3. the browser test (scripts/browser-test.sh): the page in Chromium, two users chatting;
#   4. the compose file: Debian's docker-compose parses compose.yaml (there is no Docker engine to run it), and the
#      result is checked for secrets in the environment and for the stores' network.
# Stages 2 and 3 need stage 1 to have built the solution (some test ran). At the end one line per stage gives its
# exit code and results, and the closing line adds them up:
#   Tests: N passed, N failed, N skipped
# counting the tests each stage reported (dotnet's totals, node's "# pass/fail/skipped"); a stage that failed
# (non-zero exit code) without reporting any failed test, e.g. a build failure or a cluster that did not start,
# counts as one failed. The exit code is non-zero if any stage failed.
#
# Exported to the tests:
#   CHAT_TEST_MYSQL         ADO.NET connection string without a database name
#                           (the fixture creates and drops its own databases)
#   CHAT_TEST_REDIS         host:port of the private redis-server
#   CHAT_TEST_REDIS_SERVER  path of the redis-server binary (for outage tests
#                           that start their own private instances)
set -euo pipefail

log() { printf '==> test.sh: %s\n' "$*" >&2; }
die() { printf '==> test.sh: ERROR: %s\n' "$*" >&2; exit 1; }
# The helpers shared with scripts/cluster.sh, scripts/browser-test.sh and scripts/bench.sh (install_missing,
# start_private_mariadb, start_private_redis, next_free_port, stop_pid, elapsed...); they call log and die.
# shellcheck source-path=SCRIPTDIR source=scripts/lib.sh disable=SC1091 # followed with shellcheck -x
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"
cd "$(dirname "$0")"

# mariadbd lives in /usr/sbin, which is not on a normal user's PATH on Debian.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# ---------------------------------------------------------------------------
# Cleanup: runs on every exit (normal, error, Ctrl-C via the INT/TERM traps).
# ---------------------------------------------------------------------------
TMP_DIR=""
PRIVATE_MARIADB_PID=""
PRIVATE_REDIS_PID=""
TEST_RC=""       # the script's exit code once the stages ran
SUMMARY_LINE=""  # "Tests: N passed, N failed, N skipped", printed last
CLUSTER_DIR=""

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    [[ -n $CLUSTER_DIR ]] && { CHAT_CLUSTER_DIR=$CLUSTER_DIR scripts/cluster.sh stop >/dev/null 2>&1 \
        || log "scripts/cluster.sh stop failed"; }
    stop_pid "$PRIVATE_REDIS_PID" redis-server
    stop_pid "$PRIVATE_MARIADB_PID" mariadbd
    finish_run "$rc" "$TEST_RC" "$TMP_DIR" "$SUMMARY_LINE"
}
on_exit cleanup

# Everything this run creates (server data, sockets, logs) lives here.
TMP_DIR=$(mktemp -d -t chat-test.XXXXXXXX)

# ---------------------------------------------------------------------------
# Stages and their results (the same for the Docker and the private-server path).
# ---------------------------------------------------------------------------
STAGES=()             # the stage names, in order
declare -A STAGE_RC=()   # name -> exit code ("" when it did not run)
declare -A STAGE_NOTE=() # name -> what happened, for the summary
declare -A STAGE_LOG=()  # name -> its output

# run_logged LOG COMMAND...: run COMMAND, its output shown and appended to LOG; returns COMMAND's exit code.
run_logged() {
    local out=$1 rc
    shift
    set +e
    "$@" 2>&1 | tee -a "$out"
    rc=${PIPESTATUS[0]}
    set -e
    return "$rc"
}

# stage_done NAME RC [NOTE]: record a stage's exit code ("" for a stage that did not run).
stage_done() {
    STAGE_RC[$1]=$2
    STAGE_NOTE[$1]=${3:-}
}

# counts LOG: "PASSED FAILED SKIPPED" that LOG reports: dotnet's normal-logger blocks ("Total tests: N" then
# "     Passed: N", "     Failed: N", "    Skipped: N", one block per test project) and node's TAP summary
# ("# pass N", "# fail N", "# cancelled N" (counted as failed), "# skipped N").
counts() {
    awk '/^Total tests: +[0-9]+/ { block = 1; next }
         block && /^ +Passed: +[0-9]+ *$/ { p += $2; next }
         block && /^ +Failed: +[0-9]+ *$/ { f += $2; next }
         block && /^ +Skipped: +[0-9]+ *$/ { s += $2; next }
         { block = 0 }
         /^# pass [0-9]+ *$/ { p += $3 }
         /^# (fail|cancelled) [0-9]+ *$/ { f += $3 }
         /^# skipped [0-9]+ *$/ { s += $3 }
         END { printf "%d %d %d\n", p, f, s }' "$1" 2>/dev/null || echo "0 0 0"
}

# failures LOG: log the tests LOG reports as failed, each with the first line of its error (dotnet's "  Failed NAME"
# then "  Error Message:", node's "not ok N - NAME"), at most 20: CI shows the end of the output, so the summary names them.
failures() {
    awk '/^  Failed [^ ]/ { name = substr($0, 10); want = 1; next }
         want && /^  Error Message:/ { getline; sub(/^ +/, ""); print "    " name ": " substr($0, 1, 300); want = 0; n++; next }
         /^not ok [0-9]+ - / { print "    " $0; n++ }
         n >= 20 { exit }' "$1" 2>/dev/null | while IFS= read -r line; do log "$line"; done
}

ran_tests() { grep -qE '^Total tests: +[0-9]+' "$1" 2>/dev/null; } # ran_tests LOG: dotnet ran at least one project

# summarize: log one line per stage, set SUMMARY_LINE and TEST_RC (1 if any stage failed).
summarize() {
    local name rc p f s total_p=0 total_f=0 total_s=0 failed=0 result
    log "summary:"
    for name in "${STAGES[@]}"; do
        rc=${STAGE_RC[$name]:-}
        if [[ -z $rc ]]; then
            log "  $name: not run${STAGE_NOTE[$name]:+ (${STAGE_NOTE[$name]})}"
            continue
        fi
        read -r p f s < <(counts "${STAGE_LOG[$name]}")
        result="$p passed, $f failed, $s skipped"
        if ((rc != 0 || f > 0)); then
            failed=$((failed + 1))
            if ((f == 0)); then
                # It failed without any failed test to show for it: count the stage itself, and say so.
                f=1
                result+="; counted as 1 failed"
            fi
            log "  $name: FAILED (exit code $rc; $result)${STAGE_NOTE[$name]:+ - ${STAGE_NOTE[$name]}}"
            failures "${STAGE_LOG[$name]}"
        else
            log "  $name: passed (exit code 0; $result)${STAGE_NOTE[$name]:+ - ${STAGE_NOTE[$name]}}"
        fi
        total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
    done
    if ((failed)); then
        log "$failed of ${#STAGES[@]} stages failed"
        TEST_RC=1
    else
        TEST_RC=0
    fi
    SUMMARY_LINE="Tests: $total_p passed, $total_f failed, $total_s skipped"
}

# The cluster smoke test: scripts/cluster.sh starts two instances behind nginx (with their own MariaDB and
# Redis, on ports apart from the ones above), the test runs against nginx, and cleanup() stops it all.
run_cluster_stage() {
    local name=$1 url prometheus="" api1 rc=0
    CLUSTER_DIR=$TMP_DIR/cluster
    api1=$(next_free_port 15101)
    export CHAT_CLUSTER_DIR=$CLUSTER_DIR
    export CHAT_CLUSTER_PORT CHAT_CLUSTER_API1_PORT=$api1 CHAT_CLUSTER_API2_PORT CHAT_CLUSTER_MYSQL_PORT CHAT_CLUSTER_REDIS_PORT \
        CHAT_CLUSTER_PROMETHEUS_PORT
    CHAT_CLUSTER_PORT=$(next_free_port 18080)
    CHAT_CLUSTER_PROMETHEUS_PORT=$(next_free_port 19090)
    CHAT_CLUSTER_API2_PORT=$(next_free_port $((api1 + 1)))
    CHAT_CLUSTER_MYSQL_PORT=$(next_free_port 23306)
    CHAT_CLUSTER_REDIS_PORT=$(next_free_port 26379)
    log "starting the cluster (two instances behind nginx) for the cluster smoke test"
    # The main run has just built everything in Release: publish that build.
    url=$(CHAT_CLUSTER_NO_BUILD=1 scripts/cluster.sh start) || rc=$?
    if ((rc != 0)); then
        log "scripts/cluster.sh start failed (exit code $rc): the cluster smoke test did not run"
        stage_done "$name" "$rc" "scripts/cluster.sh start failed, no test ran"
        return
    fi
    # Prometheus beside it (Debian's package): a test checks that it scrapes both instances. Without it that test
    # fails, naming what is missing; the others run.
    prometheus=$(scripts/cluster.sh metrics) || log "scripts/cluster.sh metrics failed: the Prometheus test will fail"
    log "running: dotnet test Chat.Tests -c Release --no-build --filter Category=Cluster (CHAT_CLUSTER_URL=$url)"
    run_logged "${STAGE_LOG[$name]}" env CHAT_CLUSTER_URL="$url" CHAT_CLUSTER_PROMETHEUS_URL="$prometheus" \
        dotnet test Chat.Tests -c Release --no-build \
        --filter "Category=Cluster" --logger "console;verbosity=normal" || rc=$?
    stage_done "$name" "$rc"
}

# The browser test: the real page in Debian's Chromium, two users chatting (scripts/browser-test.sh). It reuses the
# cluster stage's published app when there is one. Node's test runner reports "# pass N" / "# fail N".
run_browser_stage() {
    local name=$1 rc=0 published=""
    [[ -z $CLUSTER_DIR || ! -f $CLUSTER_DIR/app/Chat.Api.dll ]] || published=$CLUSTER_DIR/app
    log "running the browser test (scripts/browser-test.sh); screenshots go to artifacts/browser/"
    run_logged "${STAGE_LOG[$name]}" env CHAT_PUBLISH_DIR="$published" scripts/browser-test.sh || rc=$?
    if ((rc != 0)) && ! grep -qE '^# (pass|fail) [0-9]+' "${STAGE_LOG[$name]}"; then
        stage_done "$name" "$rc" "it stopped before the test runner reported"
    else
        stage_done "$name" "$rc"
    fi
}

# compose.yaml, with no Docker engine to run it: Debian's docker-compose parses and interpolates it as `up` would, and
# the rendered file is checked for what the deployment promises: no secret in an environment variable, MySQL and Redis
# on no network nginx is on, and every secret file it mounts made by scripts/compose-secrets.sh (into a directory of
# this run), which keeps them on a second run. Reported as "# pass N" / "# fail N".
run_compose_stage() {
    local name=$1 rc=0 log=${STAGE_LOG[$1]} secrets=$TMP_DIR/compose-secrets rendered=$TMP_DIR/compose.rendered.yaml
    install_missing "docker-compose=docker-compose" >>"$log" 2>&1 || rc=$?
    if ((rc == 0)); then
        log "checking compose.yaml with docker-compose config"
        { docker-compose -f compose.yaml config >"$rendered" && scripts/compose-secrets.sh "$secrets" \
            && cp -p "$secrets/Jwt__SigningKey" "$TMP_DIR/first-key" && scripts/compose-secrets.sh "$secrets"; } >>"$log" 2>&1 || rc=$?
        # docker-compose's own dependency, python3-yaml, reads the rendered file.
        python3 - "$rendered" "$secrets" "$TMP_DIR/first-key" >>"$log" 2>&1 <<'PY' || rc=1
import os, re, sys, yaml
rendered, secrets, first_key = sys.argv[1:]
checks = []
def check(ok, what):
    checks.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(checks)} - {what}")
config = yaml.safe_load(open(rendered))
services = config["services"]
secretive = re.compile(r"password|signingkey|secret", re.I)
for name, service in services.items():
    env = service.get("environment") or {}
    plain = [k for k, v in env.items() if secretive.search(k) and not k.endswith("_FILE") or re.search(r"password=", str(v), re.I)]
    check(not plain, f"{name}: no secret in an environment variable {plain or ''}")
def networks(service):
    return set(service.get("networks") or ["default"])
for store in ("mysql", "redis"):
    check(not networks(services[store]) & networks(services["nginx"]), f"{store} is on no network nginx is on")
named = set(config.get("secrets", {}))
made = set(os.listdir(secrets))
check(named <= made, f"scripts/compose-secrets.sh made every secret compose.yaml mounts (missing: {sorted(named - made)})")
check(open(first_key).read() == open(os.path.join(secrets, "Jwt__SigningKey")).read(), "a second run kept the secrets")
redis = open(os.path.join(secrets, "ConnectionStrings__Redis")).read()
check(redis.endswith(",password=" + open(os.path.join(secrets, "redis_password")).read()), "the app's Redis connection string has Redis's password")
print(f"# pass {sum(checks)}\n# fail {len(checks) - sum(checks)}")
sys.exit(0 if all(checks) else 1)
PY
    fi
    stage_done "$name" "$rc"
}

run_tests() {
    if [[ ${CHAT_TEST_DRY_RUN:-0} == 1 ]]; then
        log "dry run: checking the services instead of running dotnet test"
        "$(first_cmd mariadb mysql)" --no-defaults --protocol=tcp -h127.0.0.1 -P"$PRIVATE_MARIADB_PORT" -uchat -pchat \
            -e 'CREATE DATABASE chat_dry_run; DROP DATABASE chat_dry_run; SELECT VERSION();'
        redis_pong "$PRIVATE_REDIS_PORT"
        log "dry run: MariaDB and Redis OK"
        TEST_RC=0
        return
    fi
    local args=("$@") arg has_filter=0 cluster rc=0 main="dotnet test" name i=0
    for arg in "$@"; do
        [[ $arg == --filter || $arg == --filter=* ]] && has_filter=1
    done
    # The cluster smoke test needs the cluster: it runs on its own, after this one.
    ((has_filter)) || args+=(--filter "Category!=Cluster")
    cluster=${CHAT_TEST_CLUSTER:-$((1 - has_filter))}
    STAGES=("$main")
    [[ $cluster != 1 ]] || STAGES+=("cluster smoke test" "browser test" "compose file")
    for name in "${STAGES[@]}"; do
        STAGE_LOG[$name]=$TMP_DIR/stage-$((++i)).log
        : >"${STAGE_LOG[$name]}"
    done

    log "running: dotnet test Chat.sln -c Release ${args[*]}"
    run_logged "${STAGE_LOG[$main]}" dotnet test Chat.sln -c Release --logger "console;verbosity=normal" "${args[@]}" \
        || rc=$?
    if ran_tests "${STAGE_LOG[$main]}"; then
        stage_done "$main" "$rc"
    else
        stage_done "$main" "$rc" "no test ran (build failure?)"
    fi
    if [[ $cluster == 1 ]]; then
        if ! ran_tests "${STAGE_LOG[$main]}"; then
            # Nothing ran, so the build failed: the cluster and the browser test would run stale binaries.
            log "the main run ran no test (build failure?): skipping the cluster smoke test and the browser test"
            stage_done "cluster smoke test" "" "the main run built nothing"
            stage_done "browser test" "" "the main run built nothing"
        else
            run_cluster_stage "cluster smoke test"
            run_browser_stage "browser test"
            run_compose_stage "compose file"
        fi
    fi
    summarize
}

# ---------------------------------------------------------------------------
# Path 1: a Docker engine answers -> the fixture uses Testcontainers.
# ---------------------------------------------------------------------------
if [[ ${CHAT_TEST_LOCAL_SERVICES:-0} != 1 && ${CHAT_TEST_DRY_RUN:-0} != 1 ]] && command -v docker >/dev/null 2>&1 \
    && timeout 10 docker info >/dev/null 2>&1; then
    log "Docker engine found: the test fixture starts MariaDB and Redis with Testcontainers"
    run_tests "$@"
    exit "$TEST_RC"
fi

# ---------------------------------------------------------------------------
# Path 2: private MariaDB and Redis servers (scripts/lib.sh), on the first free ports from the knobs' values;
# a port someone takes between the check and the start is retried on the next free one.
# ---------------------------------------------------------------------------
install_missing "${MARIADB_REDIS_COMMANDS[@]}"
start_private_mariadb --tries 5 "$TMP_DIR/mysql" "$(next_free_port "${CHAT_TEST_MYSQL_PORT:-13306}")"
start_private_redis --tries 5 "$TMP_DIR/redis" "$(next_free_port "${CHAT_TEST_REDIS_PORT:-16379}")"

export CHAT_TEST_MYSQL="Server=127.0.0.1;Port=$PRIVATE_MARIADB_PORT;User ID=chat;Password=chat"
export CHAT_TEST_REDIS="127.0.0.1:$PRIVATE_REDIS_PORT"
CHAT_TEST_REDIS_SERVER=$(first_cmd redis-server)
export CHAT_TEST_REDIS_SERVER

log "services ready in $(elapsed) s"
log "CHAT_TEST_MYSQL=$CHAT_TEST_MYSQL"
log "CHAT_TEST_REDIS=$CHAT_TEST_REDIS"
log "CHAT_TEST_REDIS_SERVER=$CHAT_TEST_REDIS_SERVER"

run_tests "$@"
exit "$TEST_RC"
