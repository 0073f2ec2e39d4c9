#!/usr/bin/env bash
# Run Chat's test suite on a fresh machine (Debian 12), e.g. `./test.sh`.
#
# The tests need MariaDB and Redis. If a Docker engine answers, the test
# fixture starts them itself with Testcontainers. Otherwise this script
# installs mariadb-server and redis-server with apt-get (only if missing),
# starts PRIVATE instances on 127.0.0.1 under a temporary directory (never the
# system services), exports their addresses to the tests, runs `dotnet test`
# and stops/removes everything again on exit, including on failure or Ctrl-C.
#
# Environment knobs:
#   CHAT_TEST_MYSQL_PORT=13306     first port tried for MariaDB (next free one is used)
#   CHAT_TEST_REDIS_PORT=16379     first port tried for Redis   (next free one is used)
#   CHAT_TEST_LOCAL_SERVICES=1     start the private servers even if Docker answers
#   CHAT_TEST_DRY_RUN=1            instead of `dotnet test`, only check that both
#                                  servers accept the test credentials
#   CHAT_TEST_CLUSTER=0|1          run the cluster smoke test afterwards (default: 1,
#                                  or 0 when the arguments include --filter)
# Extra arguments are passed to `dotnet test` (e.g. ./test.sh --filter Redis).
#
# Two runs, one summary: first `dotnet test` over the solution with
# --filter "Category!=Cluster" (added only when the arguments hold no --filter
# of their own), then the cluster smoke test (Category=Cluster): scripts/cluster.sh
# starts two API instances behind nginx, with their own MariaDB and Redis, under
# this run's temporary directory on free loopback ports, and stops them on exit.
# The last line adds up both runs; the exit code is non-zero if either failed.
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
# The helpers shared with scripts/cluster.sh and scripts/browser-test.sh (first_cmd, apt_install, next_free_port,
# stop_pid, elapsed...); they call log and die.
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
MYSQL_PID=""
REDIS_PID=""
TEST_RC=""
CLUSTER_DIR=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    [[ -n $CLUSTER_DIR ]] && { CHAT_CLUSTER_DIR=$CLUSTER_DIR scripts/cluster.sh stop >/dev/null 2>&1 \
        || log "scripts/cluster.sh stop failed"; }
    stop_pid "$REDIS_PID" redis-server
    stop_pid "$MYSQL_PID" mariadbd
    finish_run "$rc" "$TEST_RC" "$TMP_DIR"
}
on_exit cleanup

# Everything this run creates (server data, sockets, logs) lives here.
TMP_DIR=$(mktemp -d -t chat-test.XXXXXXXX)

# ---------------------------------------------------------------------------
# Running the tests (same for both the Docker and the private-server path).
# ---------------------------------------------------------------------------

# The cluster smoke test: scripts/cluster.sh starts two instances behind nginx (with their own MariaDB and
# Redis, on ports apart from the ones above), the test runs against nginx, and cleanup() stops it all.
# Output goes to the same log as the main run, for the summary. Returns the test run's exit code.
run_cluster_tests() {
    local out=$1 url api1 rc
    CLUSTER_DIR=$TMP_DIR/cluster
    api1=$(next_free_port 15101)
    export CHAT_CLUSTER_DIR=$CLUSTER_DIR
    export CHAT_CLUSTER_PORT CHAT_CLUSTER_API1_PORT=$api1 CHAT_CLUSTER_API2_PORT CHAT_CLUSTER_MYSQL_PORT CHAT_CLUSTER_REDIS_PORT
    CHAT_CLUSTER_PORT=$(next_free_port 18080)
    CHAT_CLUSTER_API2_PORT=$(next_free_port $((api1 + 1)))
    CHAT_CLUSTER_MYSQL_PORT=$(next_free_port 23306)
    CHAT_CLUSTER_REDIS_PORT=$(next_free_port 26379)
    log "starting the cluster (two instances behind nginx) for the cluster smoke test"
    # The main run has just built everything in Release: publish that build.
    if ! url=$(CHAT_CLUSTER_NO_BUILD=1 scripts/cluster.sh start); then
        log "scripts/cluster.sh start failed: the cluster smoke test did not run"
        # Counted as a failed test, so the summary line says so too.
        printf 'Total tests: 1\n     Failed: 1\n' >>"$out"
        return 1
    fi
    log "running: dotnet test Chat.Tests -c Release --no-build --filter Category=Cluster (CHAT_CLUSTER_URL=$url)"
    set +e
    CHAT_CLUSTER_URL=$url dotnet test Chat.Tests -c Release --no-build --filter "Category=Cluster" \
        --logger "console;verbosity=normal" 2>&1 | tee -a "$out"
    rc=${PIPESTATUS[0]}
    set -e
    return "$rc"
}

# The browser test: the real page in Debian's Chromium, two users chatting (scripts/browser-test.sh). It reuses the
# cluster stage's published app when there is one. Node's test runner reports "# pass N" / "# fail N", which the
# summary below adds in. Returns the browser test's exit code.
run_browser_tests() {
    local out=$1 rc
    local published=${CLUSTER_DIR:+$CLUSTER_DIR/app}
    log "running the browser test (scripts/browser-test.sh); screenshots go to artifacts/browser/"
    set +e
    CHAT_PUBLISH_DIR=${published:-} scripts/browser-test.sh 2>&1 | tee -a "$out"
    rc=${PIPESTATUS[0]}
    set -e
    if ! grep -qE '^# (pass|fail) [0-9]+' "$out"; then
        printf '# fail 1\n' >>"$out" # it did not get as far as running: count that as a failure
    fi
    return "$rc"
}

run_tests() {
    if [[ ${CHAT_TEST_DRY_RUN:-0} == 1 ]]; then
        log "dry run: checking the services instead of running dotnet test"
        "$MYSQL_CLIENT" --no-defaults --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" -uchat -pchat \
            -e 'CREATE DATABASE chat_dry_run; DROP DATABASE chat_dry_run; SELECT VERSION();'
        [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping) == PONG ]]
        log "dry run: MariaDB and Redis OK"
        TEST_RC=0
        return
    fi
    local out=$TMP_DIR/dotnet-test.log args=("$@") arg has_filter=0 cluster
    for arg in "$@"; do
        [[ $arg == --filter || $arg == --filter=* ]] && has_filter=1
    done
    # The cluster smoke test needs the cluster: it runs on its own, after this one.
    ((has_filter)) || args+=(--filter "Category!=Cluster")
    cluster=${CHAT_TEST_CLUSTER:-$((1 - has_filter))}
    log "running: dotnet test Chat.sln -c Release ${args[*]}"
    set +e
    dotnet test Chat.sln -c Release --logger "console;verbosity=normal" "${args[@]}" 2>&1 | tee "$out"
    TEST_RC=${PIPESTATUS[0]}
    set -e
    if [[ $cluster == 1 ]]; then
        if ! grep -qE '^Total tests: +[0-9]+' "$out"; then
            # Nothing ran, so the build failed: the cluster would run stale binaries.
            log "the main run ran no test (build failure?): skipping the cluster smoke test"
        elif ! run_cluster_tests "$out"; then
            TEST_RC=1
        fi
        if grep -qE '^Total tests: +[0-9]+' "$out" && ! run_browser_tests "$out"; then
            TEST_RC=1
        fi
    fi
    # One plain summary line over all test projects, from the normal logger's per-project
    # "Total tests: N / Passed: N / Failed: N / Skipped: N" blocks, so CI's log ends on a single total.
    awk '/^Total tests: +[0-9]+/ { seen = 1 }
         /^ +Passed: +[0-9]+ *$/ { p += $2 }
         /^ +Failed: +[0-9]+ *$/ { f += $2 }
         /^ +Skipped: +[0-9]+ *$/ { s += $2 }
         /^# pass [0-9]+ *$/ { p += $3 }
         /^# fail [0-9]+ *$/ { f += $3 }
         /^# skipped [0-9]+ *$/ { s += $3 }
         END { if (seen) printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$out"
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
# Path 2: private MariaDB and Redis servers.
# ---------------------------------------------------------------------------
if ! first_cmd mariadbd mysqld >/dev/null || ! first_cmd mariadb-install-db mysql_install_db >/dev/null \
    || ! first_cmd mariadb mysql >/dev/null || ! first_cmd mariadb-admin mysqladmin >/dev/null \
    || ! first_cmd redis-server >/dev/null || ! first_cmd redis-cli >/dev/null; then
    require_root_or_sudo "mariadb-server and redis-server"
    log "installing mariadb-server and redis-server with apt-get"
    # Installing starts the system services on 3306/6379; we leave them alone
    # and use other ports.
    apt_install mariadb-server mariadb-client redis-server redis-tools
fi

MYSQLD=$(first_cmd mariadbd mysqld)
MYSQL_INSTALL_DB=$(first_cmd mariadb-install-db mysql_install_db)
MYSQL_CLIENT=$(first_cmd mariadb mysql)
MYSQL_ADMIN=$(first_cmd mariadb-admin mysqladmin)
REDIS_SERVER=$(first_cmd redis-server)

# Unix socket paths are limited to ~107 bytes.
((${#TMP_DIR} < 80)) || die "temporary directory path too long for a socket: $TMP_DIR (set TMPDIR=/tmp)"

# --- MariaDB ----------------------------------------------------------------
MYSQL_DIR=$TMP_DIR/mysql
mkdir -p "$MYSQL_DIR/data" "$MYSQL_DIR/tmp"
MYSQL_SOCK=$MYSQL_DIR/mysqld.sock
# mariadbd refuses to run as root unless told to; as a normal user --user is
# not needed (and would only print a warning).
USER_OPT=()
[[ $(id -u) -ne 0 ]] || USER_OPT=(--user=root)

log "initialising MariaDB data directory in $MYSQL_DIR/data"
# --no-defaults: ignore /etc/mysql/*.cnf (system datadir, socket, port...).
# --auth-root-authentication-method=normal: root@localhost without password
# (instead of unix_socket auth), so this works the same as root and as a
# normal user; the server only listens on loopback and a private socket.
if ! "$MYSQL_INSTALL_DB" --no-defaults "${USER_OPT[@]}" --datadir="$MYSQL_DIR/data" \
    --auth-root-authentication-method=normal --skip-test-db \
    >"$MYSQL_DIR/install-db.log" 2>&1; then
    cat "$MYSQL_DIR/install-db.log" >&2
    die "mariadb-install-db failed"
fi

mysql_root() { "$MYSQL_CLIENT" --no-defaults --socket="$MYSQL_SOCK" -uroot "$@"; }

MYSQL_PORT=${CHAT_TEST_MYSQL_PORT:-13306}
for attempt in 1 2 3 4 5; do
    MYSQL_PORT=$(next_free_port "$MYSQL_PORT")
    log "starting mariadbd on 127.0.0.1:$MYSQL_PORT"
    : >"$MYSQL_DIR/mysqld.err"
    # Durability settings are relaxed (throwaway data); max-connections is
    # raised because parallel test classes each keep a connection pool.
    "$MYSQLD" --no-defaults "${USER_OPT[@]}" \
        --datadir="$MYSQL_DIR/data" --tmpdir="$MYSQL_DIR/tmp" \
        --socket="$MYSQL_SOCK" --pid-file="$MYSQL_DIR/mysqld.pid" \
        --log-error="$MYSQL_DIR/mysqld.err" \
        --skip-networking=0 --bind-address=127.0.0.1 --port="$MYSQL_PORT" \
        --skip-name-resolve \
        --character-set-server=utf8mb4 \
        --max-connections=500 \
        --innodb-buffer-pool-size=128M --innodb-log-file-size=48M \
        --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 \
        </dev/null >/dev/null 2>&1 &
    MYSQL_PID=$!
    deadline=$((SECONDS + 60))
    while ! "$MYSQL_ADMIN" --no-defaults --socket="$MYSQL_SOCK" -uroot ping >/dev/null 2>&1; do
        if ! kill -0 "$MYSQL_PID" 2>/dev/null; then break; fi
        ((SECONDS < deadline)) || { cat "$MYSQL_DIR/mysqld.err" >&2; die "mariadbd did not answer within 60 s"; }
        sleep 0.2
    done
    kill -0 "$MYSQL_PID" 2>/dev/null && break
    # The server died: retry on the next port if someone grabbed ours
    # (a race with another program), otherwise give up.
    wait "$MYSQL_PID" 2>/dev/null || true
    MYSQL_PID=""
    if grep -qiE 'address already in use|another server running on port' "$MYSQL_DIR/mysqld.err" && ((attempt < 5)); then
        log "port $MYSQL_PORT is taken, trying the next one"
        MYSQL_PORT=$((MYSQL_PORT + 1))
        continue
    fi
    cat "$MYSQL_DIR/mysqld.err" >&2
    die "mariadbd exited during startup"
done

# The test user: may create and drop its own databases. '%' covers TCP from
# 127.0.0.1 (with --skip-name-resolve the host is matched as an IP); the
# localhost/127.0.0.1 accounts also win over any anonymous ''@localhost.
mysql_root <<'SQL'
DROP USER IF EXISTS ''@'localhost';
CREATE USER 'chat'@'%' IDENTIFIED BY 'chat';
CREATE USER 'chat'@'localhost' IDENTIFIED BY 'chat';
CREATE USER 'chat'@'127.0.0.1' IDENTIFIED BY 'chat';
GRANT ALL PRIVILEGES ON *.* TO 'chat'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'chat'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'chat'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL

# --- Redis ------------------------------------------------------------------
REDIS_DIR=$TMP_DIR/redis
mkdir -p "$REDIS_DIR"
REDIS_PORT=${CHAT_TEST_REDIS_PORT:-16379}
for attempt in 1 2 3 4 5; do
    REDIS_PORT=$(next_free_port "$REDIS_PORT")
    log "starting redis-server on 127.0.0.1:$REDIS_PORT"
    : >"$REDIS_DIR/redis.log"
    # No persistence at all: --save '' and no AOF.
    "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 \
        --save '' --appendonly no --daemonize no \
        --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" \
        </dev/null >/dev/null 2>&1 &
    REDIS_PID=$!
    deadline=$((SECONDS + 30))
    while [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) != PONG ]]; do
        if ! kill -0 "$REDIS_PID" 2>/dev/null; then break; fi
        ((SECONDS < deadline)) || { cat "$REDIS_DIR/redis.log" >&2; die "redis-server did not answer within 30 s"; }
        sleep 0.1
    done
    kill -0 "$REDIS_PID" 2>/dev/null && break
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
    if grep -qi 'address already in use' "$REDIS_DIR/redis.log" && ((attempt < 5)); then
        log "port $REDIS_PORT is taken, trying the next one"
        REDIS_PORT=$((REDIS_PORT + 1))
        continue
    fi
    cat "$REDIS_DIR/redis.log" >&2
    die "redis-server exited during startup"
done

export CHAT_TEST_MYSQL="Server=127.0.0.1;Port=$MYSQL_PORT;User ID=chat;Password=chat"
export CHAT_TEST_REDIS="127.0.0.1:$REDIS_PORT"
export CHAT_TEST_REDIS_SERVER=$REDIS_SERVER

log "services ready in $(elapsed) s"
log "MariaDB: $("$MYSQLD" --version)"
log "         server $(mysql_root -N -B -e 'SELECT VERSION()') on 127.0.0.1:$MYSQL_PORT"
log "Redis:   $("$REDIS_SERVER" --version)"
log "         on 127.0.0.1:$REDIS_PORT"
log "CHAT_TEST_MYSQL=$CHAT_TEST_MYSQL"
log "CHAT_TEST_REDIS=$CHAT_TEST_REDIS"
log "CHAT_TEST_REDIS_SERVER=$CHAT_TEST_REDIS_SERVER"

run_tests "$@"
exit "$TEST_RC"
