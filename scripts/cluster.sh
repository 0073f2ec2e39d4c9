#!/usr/bin/env bash
# Two Chat API instances behind nginx on this host, without Docker: the topology of compose.yaml on loopback.
#
#   scripts/cluster.sh start               MariaDB, Redis, API instances 1 and 2, nginx; prints the URL
#   scripts/cluster.sh stop                stops everything `start` started (safe to run twice)
#   scripts/cluster.sh status              what runs, with pids, ports and nginx's readiness
#   scripts/cluster.sh kill-instance N     SIGKILL API instance N (1 or 2), as a crash would
#   scripts/cluster.sh restart-instance N  stop API instance N if it runs, start it again, wait until ready
#   scripts/cluster.sh metrics             Prometheus scraping both instances (deploy/prometheus.yml); prints its URL
#
# Installs mariadb-server, redis-server, nginx and gettext-base (envsubst) with apt-get if they are missing
# (`metrics` also Debian's prometheus),
# then runs PRIVATE instances of them (never the system services) under the state directory, which also holds
# the published app, the generated JWT signing key, the pid files and every log (logs/*.log). MariaDB and Redis
# are started by scripts/lib.sh (start_private_mariadb, start_private_redis), the same bootstrap test.sh uses;
# the app's account is chat/chat on the database chat. MariaDB's data stays there between stop and start; Redis
# keeps nothing.
#
# Environment knobs (read by `start`; later commands use the values `start` recorded in the state directory):
#   CHAT_CLUSTER_DIR=${TMPDIR:-/tmp}/chat-cluster   state directory
#   CHAT_CLUSTER_PORT=8080                           nginx, on 127.0.0.1
#   CHAT_CLUSTER_API1_PORT=5101, CHAT_CLUSTER_API2_PORT=5102
#   CHAT_CLUSTER_MYSQL_PORT=23306, CHAT_CLUSTER_REDIS_PORT=26379
#   CHAT_CLUSTER_PROMETHEUS_PORT=9090                Prometheus (`metrics`), on 127.0.0.1
#   CHAT_CLUSTER_NO_BUILD=1                          publish what the last Release build left (no build)
#   JWT_SIGNING_KEY                                  instead of the key generated once per state directory
# The instances inherit the rest of the environment, so any app setting can be given as usual, e.g.
# `Presence__TtlSeconds=10 scripts/cluster.sh start`. RateLimiting__Auth__PermitLimit defaults to 1000 here
# (every client comes from 127.0.0.1).
set -euo pipefail

log() { printf '==> cluster.sh: %s\n' "$*" >&2; }
die() { printf '==> cluster.sh: ERROR: %s\n' "$*" >&2; exit 1; }
# The helpers shared with test.sh, scripts/browser-test.sh and scripts/bench.sh (install_missing,
# start_private_mariadb, start_private_redis, alive, stop_pid, wait_ready...); they call log and die.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # followed with shellcheck -x
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${CHAT_CLUSTER_DIR:-${TMPDIR:-/tmp}/chat-cluster}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
LOGS=$STATE/logs

# mariadbd and nginx live in /usr/sbin, which is not on a normal user's PATH on Debian.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------
# Settings: chosen by `start`, recorded in $STATE/cluster.env for the other commands.
# ---------------------------------------------------------------------------
load_settings() {
    if [[ -f $STATE/cluster.env ]]; then
        # shellcheck source=/dev/null
        source "$STATE/cluster.env"
    fi
    : "${NGINX_PORT:=${CHAT_CLUSTER_PORT:-8080}}"
    : "${API1_PORT:=${CHAT_CLUSTER_API1_PORT:-5101}}"
    : "${API2_PORT:=${CHAT_CLUSTER_API2_PORT:-5102}}"
    : "${MYSQL_PORT:=${CHAT_CLUSTER_MYSQL_PORT:-23306}}"
    : "${REDIS_PORT:=${CHAT_CLUSTER_REDIS_PORT:-26379}}"
    : "${PROMETHEUS_PORT:=${CHAT_CLUSTER_PROMETHEUS_PORT:-9090}}"
}

save_settings() {
    cat >"$STATE/cluster.env" <<EOF
NGINX_PORT=$NGINX_PORT
API1_PORT=$API1_PORT
API2_PORT=$API2_PORT
MYSQL_PORT=$MYSQL_PORT
REDIS_PORT=$REDIS_PORT
PROMETHEUS_PORT=$PROMETHEUS_PORT
EOF
}

url() { echo "http://127.0.0.1:$NGINX_PORT"; }

# ---------------------------------------------------------------------------
# Processes: one pid file per component in $STATE/run; a pid counts only while it runs the expected program.
# ---------------------------------------------------------------------------
pid_file() { echo "$STATE/run/$1.pid"; }

# What a component's command line must contain, so a recycled pid is never taken for ours.
signature() {
    case $1 in
        mariadb) echo "$STATE/mysql/data" ;;
        redis) echo "redis-server" ;;
        api1 | api2) echo "Chat.Api.dll" ;;
        nginx) echo "$STATE/nginx/nginx.conf" ;;
        prometheus) echo "$STATE/prometheus/prometheus.yml" ;;
    esac
}

running_pid() { # running_pid NAME: print the component's pid if it runs
    local name=$1 file pid
    file=$(pid_file "$name")
    [[ -f $file ]] || return 1
    pid=$(<"$file")
    alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(signature "$name")" || return 1
    echo "$pid"
}

stop_component() { # stop_component NAME: stop it if it runs (SIGTERM, up to 30 s, then SIGKILL), forget its pid
    local name=$1 pid
    if pid=$(running_pid "$name"); then
        log "stopping $name (pid $pid)"
        stop_pid "$pid" "$name"
    fi
    rm -f "$(pid_file "$name")"
}

# launch NAME LOG COMMAND...: start COMMAND in its own session (so a Ctrl-C or a closed terminal later does
# not reach it), detached from this script's stdio, and record its pid. Without job control the background
# child is no process-group leader, so setsid(1) calls setsid() and execs in place: $! is the program itself.
launch() {
    local name=$1 logfile=$2
    shift 2
    setsid "$@" </dev/null >>"$logfile" 2>&1 &
    echo $! >"$(pid_file "$name")"
}

require_free_port() { # require_free_port PORT WHAT
    ! port_in_use "$1" || die "port $1 for $2 is already in use (set CHAT_CLUSTER_* ports, see the top of $0)"
}

wait_http_ready() { # wait_http_ready NAME URL LOG: until URL answers 200 (60 s), while the component runs
    # The pid launch recorded, not running_pid's: right after the fork the child may not have exec'ed the program
    # yet, so its command line is still this script's and would not pass for the component's.
    wait_ready 60 "$(<"$(pid_file "$1")")" "$1" "$3" http_ok "$2"
}

# ---------------------------------------------------------------------------
# Packages (lib.sh's install_missing, as in test.sh, plus nginx, envsubst and curl).
# ---------------------------------------------------------------------------
install_packages() {
    install_missing "${MARIADB_REDIS_COMMANDS[@]}" nginx=nginx envsubst=gettext-base curl=curl
}

# ---------------------------------------------------------------------------
# Components.
# ---------------------------------------------------------------------------
start_mariadb() { # the app's database chat, for the account chat/chat
    require_free_port "$MYSQL_PORT" MariaDB
    start_private_mariadb --log "$LOGS/mariadb.log" --pid-file "$(pid_file mariadb)" --database chat \
        "$STATE/mysql" "$MYSQL_PORT"
}

start_redis() {
    require_free_port "$REDIS_PORT" Redis
    start_private_redis --log "$LOGS/redis.log" --pid-file "$(pid_file redis)" "$STATE/redis" "$REDIS_PORT"
}

publish_app() {
    local args=(publish "$ROOT/Chat.Api/Chat.Api.csproj" -c Release -o "$STATE/app" --nologo -v quiet)
    [[ ${CHAT_CLUSTER_NO_BUILD:-0} != 1 ]] || args+=(--no-build)
    log "publishing Chat.Api (Release) to $STATE/app"
    rm -rf "$STATE/app"
    dotnet "${args[@]}" >"$LOGS/publish.log" 2>&1 || { cat "$LOGS/publish.log" >&2; die "dotnet publish failed"; }
}

signing_key() {
    if [[ -n ${JWT_SIGNING_KEY:-} ]]; then
        printf '%s' "$JWT_SIGNING_KEY"
        return
    fi
    if [[ ! -s $STATE/jwt-signing-key ]]; then
        (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$STATE/jwt-signing-key")
    fi
    cat "$STATE/jwt-signing-key"
}

start_instance() { # start_instance N
    local n=$1 port name=api$1
    [[ $n == 1 ]] && port=$API1_PORT || port=$API2_PORT
    [[ -f $STATE/app/Chat.Api.dll ]] || die "the app is not published in $STATE/app: run '$0 start'"
    require_free_port "$port" "API instance $n"
    log "starting API instance $n on 127.0.0.1:$port (log: $LOGS/$name.log)"
    # The rest of this environment is inherited: any app setting (Presence__TtlSeconds=...) passes through.
    echo "---- $(date -Is) start" >>"$LOGS/$name.log"
    (
        cd "$STATE/app"
        export ASPNETCORE_ENVIRONMENT=Production
        export ConnectionStrings__Chat="Server=127.0.0.1;Port=$MYSQL_PORT;Database=chat;User ID=chat;Password=chat"
        export ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT"
        Jwt__SigningKey=$(signing_key)
        export Jwt__SigningKey
        export RateLimiting__Auth__PermitLimit=${RateLimiting__Auth__PermitLimit:-1000}
        launch "$name" "$LOGS/$name.log" dotnet "$STATE/app/Chat.Api.dll" --urls "http://127.0.0.1:$port"
    )
    wait_http_ready "$name" "http://127.0.0.1:$port/health/ready" "$LOGS/$name.log"
    log "API instance $n ready (pid $(running_pid "$name"))"
}

render_nginx() {
    local dir=$STATE/nginx user_line=""
    mkdir -p "$dir/tmp"
    # The shared http-level config, filled in for loopback; nginx's own $variables stay as they are.
    # shellcheck disable=SC2016
    API1=127.0.0.1:$API1_PORT API2=127.0.0.1:$API2_PORT LISTEN_PORT=127.0.0.1:$NGINX_PORT \
        envsubst '${API1} ${API2} ${LISTEN_PORT}' <"$ROOT/deploy/nginx.conf.template" >"$dir/chat.conf"
    # As root, nginx would switch its workers to nobody, who may not reach this directory (test.sh's is 0700).
    [[ $(id -u) -ne 0 ]] || user_line="user root;"
    # Main context for a private, unprivileged nginx: pid, temp paths and logs under the state directory; workers
    # and connections as deploy/nginx.main.conf sizes them for every deployment.
    cat >"$dir/nginx.conf" <<EOF
# Written by scripts/cluster.sh: the private main context around deploy/nginx.conf.template.
$user_line
daemon off;
pid $dir/nginx.pid;
error_log stderr notice;
include $ROOT/deploy/nginx.main.conf;

http {
    client_body_temp_path $dir/tmp/client_body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;

    include $dir/chat.conf;
}
EOF
}

start_nginx() {
    local dir=$STATE/nginx nginx_bin
    nginx_bin=$(first_cmd nginx)
    render_nginx
    require_free_port "$NGINX_PORT" nginx
    "$nginx_bin" -t -q -e stderr -p "$dir" -c "$dir/nginx.conf" >"$LOGS/nginx-check.log" 2>&1 \
        || { cat "$LOGS/nginx-check.log" >&2; die "nginx rejected $dir/nginx.conf"; }
    log "starting nginx on 127.0.0.1:$NGINX_PORT (log: $LOGS/nginx.log)"
    launch nginx "$LOGS/nginx.log" "$nginx_bin" -e stderr -p "$dir" -c "$dir/nginx.conf"
    wait_http_ready nginx "$(url)/health/ready" "$LOGS/nginx.log"
}

start_prometheus() { # Prometheus from Debian's package, scraping both instances as compose's does
    local dir=$STATE/prometheus prometheus_bin
    prometheus_bin=$(first_cmd prometheus)
    mkdir -p "$dir/data"
    # deploy/prometheus.yml, compose's, with this host's instances in place of compose's api1 and api2.
    sed -e "s/api1:8080/127.0.0.1:$API1_PORT/" -e "s/api2:8080/127.0.0.1:$API2_PORT/" \
        "$ROOT/deploy/prometheus.yml" >"$dir/prometheus.yml"
    require_free_port "$PROMETHEUS_PORT" Prometheus
    log "starting Prometheus on 127.0.0.1:$PROMETHEUS_PORT (log: $LOGS/prometheus.log)"
    launch prometheus "$LOGS/prometheus.log" "$prometheus_bin" --config.file="$dir/prometheus.yml" \
        --storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
    wait_http_ready prometheus "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" "$LOGS/prometheus.log"
}

# ---------------------------------------------------------------------------
# Commands.
# ---------------------------------------------------------------------------
COMPONENTS=(prometheus nginx api2 api1 redis mariadb) # stopping order

cmd_stop() {
    load_settings
    local name
    for name in "${COMPONENTS[@]}"; do stop_component "$name"; done
    log "stopped"
}

# shellcheck disable=SC2317 # called through the EXIT trap
start_failed() {
    local rc=$?
    trap - EXIT INT TERM
    if ((rc != 0)); then
        log "start failed, stopping what was started"
        cmd_stop || true
    fi
    exit "$rc"
}

cmd_start() {
    local name started=0 t0=$SECONDS
    mkdir -p "$STATE/run" "$LOGS"
    for name in "${COMPONENTS[@]}"; do
        running_pid "$name" >/dev/null && started=1
    done
    if ((started)); then
        load_settings
        log "already running (stop it first to start afresh):"
        cmd_status >&2
        url
        return 0
    fi
    # Fresh settings from the environment; the previous run's are forgotten.
    rm -f "$STATE/cluster.env"
    load_settings
    save_settings
    install_packages
    # A half-started cluster is worse than none: stop whatever did start.
    on_exit start_failed
    start_mariadb
    start_redis
    publish_app
    # One at a time: the first applies the migrations, the second finds the schema ready.
    start_instance 1
    start_instance 2
    start_nginx
    trap - EXIT INT TERM
    log "cluster ready in $((SECONDS - t0)) s; state and logs in $STATE"
    url
}

cmd_status() {
    load_settings
    local name pid port any=0
    for name in mariadb redis api1 api2 nginx prometheus; do
        case $name in
            mariadb) port=$MYSQL_PORT ;; redis) port=$REDIS_PORT ;; api1) port=$API1_PORT ;;
            api2) port=$API2_PORT ;; nginx) port=$NGINX_PORT ;; prometheus) port=$PROMETHEUS_PORT ;;
        esac
        if pid=$(running_pid "$name"); then
            any=1
            printf '%-8s running  pid %-8s 127.0.0.1:%s\n' "$name" "$pid" "$port"
        else
            printf '%-8s stopped  %-12s 127.0.0.1:%s\n' "$name" "" "$port"
        fi
    done
    if ((any)); then
        printf 'nginx    %s/health/ready -> %s\n' "$(url)" "$(http_status "$(url)/health/ready")"
    fi
    printf 'state    %s\n' "$STATE"
}

instance_arg() {
    [[ ${1:-} == 1 || ${1:-} == 2 ]] || die "which instance? 1 or 2"
}

cmd_kill_instance() {
    instance_arg "${1:-}"
    load_settings
    local pid
    pid=$(running_pid "api$1") || die "API instance $1 is not running"
    kill -KILL "$pid"
    log "API instance $1 (pid $pid) killed with SIGKILL"
}

cmd_metrics() {
    load_settings
    running_pid api1 >/dev/null || running_pid api2 >/dev/null || die "the cluster is not running: '$0 start' first"
    if ! running_pid prometheus >/dev/null; then
        install_missing prometheus=prometheus
        start_prometheus
    fi
    echo "http://127.0.0.1:$PROMETHEUS_PORT"
}

cmd_restart_instance() {
    instance_arg "${1:-}"
    load_settings
    stop_component "api$1"
    start_instance "$1"
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    kill-instance) cmd_kill_instance "${2:-}" ;;
    restart-instance) cmd_restart_instance "${2:-}" ;;
    metrics) cmd_metrics ;;
    *) usage ;;
esac
