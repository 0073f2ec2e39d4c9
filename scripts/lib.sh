# shellcheck shell=bash
# Helpers shared by test.sh, scripts/cluster.sh, scripts/browser-test.sh and scripts/bench.sh: each one lives here
# only, including the one private MariaDB/Redis bootstrap (start_private_mariadb, start_private_redis).
#
# Source it near the top, after defining log and die, which these helpers call (each script keeps its own, with
# its own name in the messages):
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"            from scripts/
#   source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"    from the repository root
# Sourcing only defines functions and sets START_TIME (for elapsed), SUDO, APT_UPDATED and MARIADB_REDIS_COMMANDS;
# it changes no shell option and no directory. Every helper works under set -euo pipefail.

if ! declare -F log >/dev/null || ! declare -F die >/dev/null; then
    printf 'lib.sh: define log and die before sourcing it\n' >&2
    return 1
fi

START_TIME=$EPOCHREALTIME
elapsed() { awk -v a="$START_TIME" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------
# Commands and packages.
# ---------------------------------------------------------------------------
first_cmd() { # first_cmd NAME... : print the path of the first command found
    local c
    for c in "$@"; do command -v "$c" 2>/dev/null && return 0; done
    return 1
}

if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi

require_root_or_sudo() { # require_root_or_sudo WHAT: die unless apt-get can run (as root, or through sudo)
    ((${#SUDO[@]} == 0)) || command -v sudo >/dev/null || die "not root and no sudo: install $1 first"
}

# apt-get with a wait for the dpkg/apt locks: a fresh machine may be running apt (unattended upgrades,
# provisioning) at boot. DPkg::Lock::Timeout covers the dpkg lock; the retry loop also covers the lists lock of
# `apt-get update`. apt-get's output goes to stderr, like log's: stdout stays for a script's result (cluster.sh
# start prints the URL, which test.sh captures).
apt_get() {
    local deadline=$((SECONDS + 600)) out
    out=$(mktemp)
    while true; do
        if "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout=120 "$@" 2>&1 | tee "$out" >&2; then
            rm -f "$out"; return 0
        fi
        if grep -qiE 'could not get lock|unable to lock|unable to acquire' "$out" \
            && ((SECONDS < deadline)); then
            log "apt/dpkg is locked by another process, retrying in 5 s"
            sleep 5
            continue
        fi
        rm -f "$out"; return 1
    done
}

APT_UPDATED=0
apt_install() { # apt_install PACKAGE...: install without recommends, after one `apt-get update` per run
    if ((!APT_UPDATED)); then
        apt_get update -q || return
        APT_UPDATED=1
    fi
    apt_get install -y -q --no-install-recommends "$@"
}

# install_missing COMMANDS=PACKAGE...: apt-get install (in one go) the PACKAGE of every pair none of whose
# COMMANDS (separated by |, e.g. "mariadbd|mysqld=mariadb-server") is found; nothing when all are there.
install_missing() {
    local pair cmds packages=() p have
    for pair in "$@"; do
        IFS='|' read -r -a cmds <<<"${pair%%=*}"
        first_cmd "${cmds[@]}" >/dev/null && continue
        have=0
        for p in "${packages[@]}"; do [[ $p != "${pair#*=}" ]] || have=1; done
        ((have)) || packages+=("${pair#*=}")
    done
    ((${#packages[@]})) || return 0
    require_root_or_sudo "${packages[*]}"
    log "installing ${packages[*]} with apt-get"
    # Installing may start the system services (MariaDB on 3306, Redis on 6379, nginx on 80); they are left alone:
    # the private instances use other ports.
    apt_install "${packages[@]}"
}

# What start_private_mariadb and start_private_redis run, for install_missing. mariadbd is in /usr/sbin, which
# is not on a normal user's PATH on Debian: add it to PATH before.
# shellcheck disable=SC2034 # for the scripts that source this
MARIADB_REDIS_COMMANDS=(
    "mariadbd|mysqld=mariadb-server" "mariadb-install-db|mysql_install_db=mariadb-server"
    "mariadb|mysql=mariadb-client" "mariadb-admin|mysqladmin=mariadb-client"
    "redis-server=redis-server" "redis-cli=redis-tools" "setsid=util-linux"
)

# ---------------------------------------------------------------------------
# Ports and HTTP, on loopback.
# ---------------------------------------------------------------------------
port_in_use() { # port_in_use PORT: true if something accepts TCP connections on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

next_free_port() { # next_free_port FIRST: first port >= FIRST that nobody listens on (FIRST..FIRST+200)
    local p=$1
    while port_in_use "$p"; do
        ((p < $1 + 200)) || die "no free port in $1..$p"
        p=$((p + 1))
    done
    echo "$p"
}

http_status() { # http_status URL: the status code, or 000 when nothing answers within 3 s
    if command -v curl >/dev/null; then
        curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null || true
    else # browser-test.sh does not install curl, but it needs node anyway
        node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) })
            .then((r) => console.log(r.status), () => console.log("000"))' "$1"
    fi
}

# ---------------------------------------------------------------------------
# Processes.
# ---------------------------------------------------------------------------
# on_exit FUNCTION: run FUNCTION when the script ends, however it ends: Ctrl-C and SIGTERM become exit 130 and 143
# (the codes of a death by those signals), which run the EXIT trap like any other exit.
on_exit() {
    # shellcheck disable=SC2064 # expands now on purpose: the trap runs the function named here
    trap "$1" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# finish_run RC TEST_RC TMP_DIR [LAST_LINE]: the end of a test script's cleanup: remove TMP_DIR (if not empty), log
# the run's time and exit with TEST_RC if the tests ran (it is not empty: their exit code is the script's), else
# with RC. LAST_LINE, if given and not empty, is printed on stdout after that, as the run's closing line.
finish_run() {
    local rc=$1 test_rc=$2 tmp_dir=$3 last_line=${4:-}
    [[ -z $tmp_dir ]] || rm -rf "$tmp_dir"
    [[ -z $test_rc ]] || rc=$test_rc
    log "finished in $(elapsed) s (exit code $rc)"
    [[ -z $last_line ]] || printf '%s\n' "$last_line"
    exit "$rc"
}

# alive PID: running, and not a zombie. kill -0 also succeeds on a zombie, which is what a process that
# cluster.sh started in an earlier call stays once it exits, until its new parent (PID 1, which in a container may
# reap late or never) reaps it.
alive() {
    local pid=$1 stat
    [[ -n $pid ]] || return 1
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    # The state is the field after "(comm)", and comm may hold spaces and parentheses.
    stat=${stat##*) }
    [[ -n $stat && ${stat%% *} != Z ]]
}

# stop_pid PID NAME [SECONDS]: SIGTERM, wait up to SECONDS (default 30) for it to end, then SIGKILL. Does
# nothing if PID is empty or not alive. Works for this shell's children and for processes an earlier call
# started (cluster.sh's), which is why it polls alive rather than waiting for the process.
stop_pid() {
    local pid=$1 name=$2 secs=${3:-30} i
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        log "$name (pid $pid) did not stop within $secs s, killing it"
        # SIGKILL ends it at once unless it is stuck in the kernel: then give up after 5 s rather than hang.
        # stderr is off so that bash does not report a child's death ("... Killed ...") while this polls.
        {
            kill -KILL "$pid" || true
            for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
        } 2>/dev/null
    fi
    # Reap it if it is this shell's child; for anyone else's process wait just fails.
    alive "$pid" || wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Waiting for a process to be ready.
# ---------------------------------------------------------------------------
http_ok() { [[ $(http_status "$1") == 200 ]]; } # http_ok URL: true if URL answers 200 within 3 s

# wait_until SECONDS PID COMMAND...: run COMMAND (quietly) every 0.2 s until it succeeds. Returns 0 then, 1 if
# PID stops running first, 2 if SECONDS pass first.
wait_until() {
    local secs=$1 pid=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@" >/dev/null 2>&1; do
        alive "$pid" || return 1
        ((SECONDS < deadline)) || return 2
        sleep 0.2
    done
}

# wait_ready SECONDS PID NAME LOG COMMAND...: wait_until, or die with LOG's last 40 lines when PID stops running
# or SECONDS pass first.
wait_ready() {
    local secs=$1 pid=$2 name=$3 logfile=$4 rc=0
    shift 4
    wait_until "$secs" "$pid" "$@" || rc=$?
    ((rc)) || return 0
    tail -n 40 "$logfile" >&2 2>/dev/null || true
    ((rc == 2)) || die "$name exited during startup (log: $logfile)"
    die "$name was not ready within $secs s (log: $logfile)"
}

# ---------------------------------------------------------------------------
# Private MariaDB and Redis on loopback: test.sh's (for the tests) and scripts/cluster.sh's (for the app).
# ---------------------------------------------------------------------------
# Both run in their own session (setsid: a Ctrl-C in the terminal does not reach them; the caller stops them),
# detached from the script's stdio, listen on 127.0.0.1 only, ignore the system's config files and services, and
# keep every file under the directory given. Install their packages first: install_missing
# "${MARIADB_REDIS_COMMANDS[@]}".
#
# Options of both:
#   --log FILE       stdout and stderr of the server, appended (default: DIR/mariadb.log or DIR/redis.log)
#   --pid-file FILE  where to write the server's pid as soon as it is started (for a later stop)
#   --tries N        if the server cannot bind PORT (someone took it first), retry on the next free port, up to N
#                    starts in all (default 1: a busy port is an error)
# On success the actual pid and port are in PRIVATE_MARIADB_PID/PORT or PRIVATE_REDIS_PID/PORT; the caller stops
# the server (stop_pid). If it never answers, it is stopped before dying.

# _private_options FUNCTION ARGS...: parse the options above into the caller's locals logfile, pid_file, tries and
# database (--database, start_private_mariadb's only), and the positional DIR and PORT into dir and port.
_private_options() {
    local fn=$1
    shift
    while [[ ${1:-} == --* ]]; do
        (($# >= 2)) || die "$fn: $1 needs a value"
        case $1 in
            --log) logfile=$2 ;;
            --pid-file) pid_file=$2 ;;
            --tries) tries=$2 ;;
            --database) database=$2 ;;
            *) die "$fn: unknown option $1" ;;
        esac
        shift 2
    done
    (($# == 2)) || die "usage: $fn [--log FILE] [--pid-file FILE] [--tries N] DIR PORT"
    dir=$1 port=$2
    [[ $port =~ ^[0-9]+$ && $tries =~ ^[1-9][0-9]*$ ]] || die "$fn: bad port $port or --tries $tries"
}

_file_size() { # _file_size FILE: its size in bytes, 0 if missing
    if [[ -f $1 ]]; then wc -c <"$1"; else echo 0; fi
}

# _private_start NAME PORT LOGFILE PID_FILE COMMAND...: start COMMAND as said above; sets started_pid (a local of
# the caller). Without job control the background child is no process-group leader, so setsid(1) calls setsid() and
# execs in place: $! is the server itself.
_private_start() {
    local name=$1 port=$2 logfile=$3 pid_file=$4
    shift 4
    setsid "$@" </dev/null >>"$logfile" 2>&1 &
    started_pid=$!
    [[ -z $pid_file ]] || echo "$started_pid" >"$pid_file"
    log "started $name (pid $started_pid) on 127.0.0.1:$port (log: $logfile)"
}

# _private_failed NAME PID LOGFILE FROM SECONDS RC TRIES_LEFT PATTERN: after a start that did not answer within
# SECONDS (RC is wait_until's):
# returns 0 when the server died because its port was taken (PATTERN in LOGFILE past byte FROM) and a retry is
# left; dies otherwise, after stopping the server if it still runs.
_private_failed() {
    local name=$1 pid=$2 logfile=$3 from=$4 secs=$5 rc=$6 left=$7 pattern=$8 output
    ((rc == 2)) && stop_pid "$pid" "$name" 10
    wait "$pid" 2>/dev/null || true # reap it (it is this shell's child)
    output=$(tail -c "+$((from + 1))" "$logfile" 2>/dev/null || true) # this start's part of the log
    if ((rc == 1 && left > 0)) && grep -qiE "$pattern" <<<"$output"; then
        return 0
    fi
    tail -n 40 <<<"$output" >&2
    ((rc == 2)) && die "$name did not answer within $secs s (log: $logfile)"
    die "$name exited during startup (log: $logfile)"
}

# start_private_mariadb [OPTIONS] [--database NAME] DIR PORT: mariadbd on 127.0.0.1:PORT with its data in DIR/data
# (initialised when missing, kept otherwise: a later start finds the same databases), its socket, pid file and
# temporary files in DIR. It has the account chat/chat (from any host: TCP from 127.0.0.1 and the socket), which
# may create, use and drop the databases whose names start with "chat": the test fixture's chat_<guid> per test
# run, scripts/cluster.sh's chat. --database NAME creates that database if missing. root@localhost has no
# password (socket only: private_mariadb_root). Durability is relaxed (throwaway data: the log is flushed once a
# second; CHAT_MARIADB_FLUSH_LOG_AT_TRX_COMMIT=1 flushes every commit, as the benchmark wants) and max-connections raised
# (parallel test classes each keep a connection pool). Its buffer pool and redo log are small (128M, 48M) unless
# CHAT_MARIADB_BUFFER_POOL_SIZE and CHAT_MARIADB_LOG_FILE_SIZE say otherwise. Sets PRIVATE_MARIADB_PID,
# PRIVATE_MARIADB_PORT and PRIVATE_MARIADB_SOCKET.
# shellcheck disable=SC2034 # PRIVATE_*: for the caller
start_private_mariadb() {
    local logfile="" pid_file="" tries=1 database="" dir port
    _private_options start_private_mariadb "$@"
    local mysqld install_db admin sock attempt from started_pid rc user_opt=()
    mysqld=$(first_cmd mariadbd mysqld) || die "mariadbd not found (install mariadb-server)"
    install_db=$(first_cmd mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
    admin=$(first_cmd mariadb-admin mysqladmin) || die "mariadb-admin not found (install mariadb-client)"
    [[ -z $database || $database =~ ^[A-Za-z0-9_]+$ ]] || die "start_private_mariadb: bad database name $database"
    mkdir -p "$dir/tmp"
    dir=$(cd "$dir" && pwd)
    sock=$dir/mysqld.sock
    : "${logfile:=$dir/mariadb.log}"
    mkdir -p "$(dirname "$logfile")"
    # Unix socket paths are limited to 107 bytes.
    ((${#sock} < 100)) || die "path too long for a Unix socket: $sock (use a shorter directory, e.g. TMPDIR=/tmp)"
    # mariadbd refuses to run as root unless told to; as a normal user --user is not needed (and would only warn).
    [[ $(id -u) -ne 0 ]] || user_opt=(--user=root)

    if [[ ! -d $dir/data/mysql ]]; then
        log "initialising the MariaDB data directory $dir/data"
        rm -rf "$dir/data"
        mkdir -p "$dir/data"
        from=$(_file_size "$logfile")
        # --no-defaults: ignore /etc/mysql/*.cnf (the system's datadir, socket, port...).
        # --auth-root-authentication-method=normal: root@localhost without a password (instead of unix_socket
        # auth), the same as root and as a normal user; the server listens only on loopback and a private socket.
        "$install_db" --no-defaults "${user_opt[@]}" --datadir="$dir/data" \
            --auth-root-authentication-method=normal --skip-test-db >>"$logfile" 2>&1 \
            || { tail -c "+$((from + 1))" "$logfile" >&2; die "mariadb-install-db failed (log: $logfile)"; }
    fi

    for ((attempt = 1; ; attempt++)); do
        from=$(_file_size "$logfile")
        _private_start mariadbd "$port" "$logfile" "$pid_file" "$mysqld" --no-defaults "${user_opt[@]}" \
            --datadir="$dir/data" --tmpdir="$dir/tmp" --socket="$sock" --pid-file="$dir/mysqld.pid" \
            --skip-networking=0 --bind-address=127.0.0.1 --port="$port" --skip-name-resolve \
            --character-set-server=utf8mb4 --max-connections=500 \
            --innodb-buffer-pool-size="${CHAT_MARIADB_BUFFER_POOL_SIZE:-128M}" \
            --innodb-log-file-size="${CHAT_MARIADB_LOG_FILE_SIZE:-48M}" \
            --innodb-flush-log-at-trx-commit="${CHAT_MARIADB_FLUSH_LOG_AT_TRX_COMMIT:-2}" --innodb-doublewrite=0
        PRIVATE_MARIADB_PID=$started_pid
        rc=0
        wait_until 60 "$started_pid" "$admin" --no-defaults --socket="$sock" -uroot ping || rc=$?
        ((rc)) || break
        PRIVATE_MARIADB_PID=""
        _private_failed mariadbd "$started_pid" "$logfile" "$from" 60 "$rc" $((tries - attempt)) \
            'address already in use|another server running on port'
        log "port $port is taken, trying the next free one"
        port=$(next_free_port $((port + 1)))
    done
    PRIVATE_MARIADB_PORT=$port
    PRIVATE_MARIADB_SOCKET=$sock

    # '%' covers TCP from 127.0.0.1 (with --skip-name-resolve the host is matched as an IP); the localhost and
    # 127.0.0.1 accounts also win over any anonymous ''@localhost. In a database name of GRANT, % and _ are
    # wildcards: `chat%` is chat and every chat_<something>. IF NOT EXISTS: the data may be an earlier start's.
    private_mariadb_root <<'SQL'
DROP USER IF EXISTS ''@'localhost';
CREATE USER IF NOT EXISTS 'chat'@'%' IDENTIFIED BY 'chat';
CREATE USER IF NOT EXISTS 'chat'@'localhost' IDENTIFIED BY 'chat';
CREATE USER IF NOT EXISTS 'chat'@'127.0.0.1' IDENTIFIED BY 'chat';
GRANT ALL PRIVILEGES ON `chat%`.* TO 'chat'@'%', 'chat'@'localhost', 'chat'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
    [[ -z $database ]] || private_mariadb_root -e "CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4"
    log "MariaDB $(private_mariadb_root -N -B -e 'SELECT VERSION()') ready on 127.0.0.1:$port (user chat, password chat)"
}

# private_mariadb_root [ARGS...]: the mariadb client as root over the socket of the last start_private_mariadb.
private_mariadb_root() {
    local client
    client=$(first_cmd mariadb mysql) || die "the mariadb client is not found (install mariadb-client)"
    "$client" --no-defaults --socket="$PRIVATE_MARIADB_SOCKET" -uroot "$@"
}

# start_private_redis [OPTIONS] DIR PORT: redis-server on 127.0.0.1:PORT without any persistence (no RDB
# snapshots, no AOF), its working directory DIR. Sets PRIVATE_REDIS_PID and PRIVATE_REDIS_PORT.
# shellcheck disable=SC2034 # PRIVATE_*: for the caller
start_private_redis() {
    local logfile="" pid_file="" tries=1 database="" dir port
    _private_options start_private_redis "$@"
    [[ -z $database ]] || die "start_private_redis: no --database"
    local server attempt from started_pid rc
    server=$(first_cmd redis-server) || die "redis-server not found (install redis-server)"
    first_cmd redis-cli >/dev/null || die "redis-cli not found (install redis-tools)"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    : "${logfile:=$dir/redis.log}"
    mkdir -p "$(dirname "$logfile")"
    for ((attempt = 1; ; attempt++)); do
        from=$(_file_size "$logfile")
        _private_start redis-server "$port" "$logfile" "$pid_file" "$server" --port "$port" --bind 127.0.0.1 \
            --save '' --appendonly no --daemonize no --dir "$dir"
        PRIVATE_REDIS_PID=$started_pid
        rc=0
        wait_until 30 "$started_pid" redis_is "$port" "$started_pid" || rc=$?
        ((rc)) || break
        PRIVATE_REDIS_PID=""
        _private_failed redis-server "$started_pid" "$logfile" "$from" 30 "$rc" $((tries - attempt)) 'address already in use'
        log "port $port is taken, trying the next free one"
        port=$(next_free_port $((port + 1)))
    done
    PRIVATE_REDIS_PORT=$port
    log "Redis $("$server" --version | grep -o 'v=[^ ]*' || true) ready on 127.0.0.1:$port"
}

redis_pong() { [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; } # redis_pong PORT

# redis_is PORT PID: the Redis that answers on PORT is process PID (and not another one that had the port first,
# which a PING alone would not tell apart).
redis_is() {
    [[ $(redis-cli -h 127.0.0.1 -p "$1" info server 2>/dev/null | tr -d '\r' | grep '^process_id:') == "process_id:$2" ]]
}
