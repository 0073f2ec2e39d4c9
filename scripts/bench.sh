#!/usr/bin/env bash
# Chat's benchmark: Chat (one instance) against a baseline, measured by the same load generator. The server is
# pinned to CPU 0 and the load generator to CPU 1; each figure is measured in the order baseline, Chat, Chat,
# baseline (A B B A) per round, on a fresh server each time, and the medians and the Chat/baseline ratio are printed.
#
#   scripts/bench.sh                 # every scenario, one round (about 17 minutes on 2 cores)
#   scripts/bench.sh --quick         # shorter runs and fewer connections, to try it out (about 3 minutes)
#   scripts/bench.sh --rounds 2 --scenarios s2,s3
#   scripts/bench.sh --scenarios s2 --warmup 60   # seconds of load before each measured window (default 30)
#   scripts/bench.sh --scenarios s5      # two instances over Redis (scripts/cluster.sh: MariaDB, Redis, 2 instances)
#   scripts/bench.sh --scenarios s6      # presence fan-out: 5,000 users with 20 contacts each, churning (Chat only)
#   scripts/bench.sh --baseline stock --scenarios s2,s3        # Chat against stock SignalR instead of the relay
#   scripts/bench.sh --baseline stock-redis --scenarios s2     # both over Redis, Chat also over MariaDB
#
# --baseline relay|stock|stock-redis: what Chat is compared against (default relay).
#   relay        the bare Kestrel WebSocket relay (`chat-bench baseline`: no auth, no protocol, no storage), against
#                Chat in embedded mode (SQLite, in-process presence, its user-indexed lifetime manager).
#   stock        a stock SignalR hub (`chat-bench stock`: Chat's JWT scheme and wire shapes, a plain Hub whose
#                SendRaw does Clients.User(...).SendAsync; no database, rate limit or presence), against Chat in
#                embedded mode: what Chat costs over SignalR itself.
#   stock-redis  the same stock hub with SignalR's stock Redis backplane (AddStackExchangeRedis), against one Chat
#                instance over MariaDB and Redis (durable storage, the Redis backplane, presence in Redis). A private
#                MariaDB (every commit flushed, as S5's) and a private Redis (scripts/lib.sh's start_private_mariadb
#                and start_private_redis) run on CPU 0 beside the server and serve both; their CPU per message is
#                reported apart (backingCpuMicrosecondsPerMessage).
# S3's rates are fractions of the chosen baseline's S2 maximum (100 pairs, window 10): from this run's S2 or an earlier
# run's in the same BENCH_DIR, else measured first. S5 (Chat alone, two instances) does not depend on the baseline;
# S6 (Chat alone: the baselines have no presence) runs Chat as the baseline chooses (embedded, or MariaDB + Redis).
#
# Results: one JSON line per run in $BENCH_DIR/results.jsonl (each tagged with its "comparison": the --baseline
# value), and a Markdown summary on standard output.
# Environment: BENCH_DIR=DIR keeps the build, logs and results there (default: a new temporary directory).
# The servers listen on the first free loopback ports from 5100 (Chat) and 5200 (the baseline); stock-redis's
# MariaDB and Redis from 23346 and 26399; S5's cluster on its own ones (from 18180, 15301, 23316 and 26389), apart
# from a cluster someone started with the defaults.
set -euo pipefail

log() { printf '==> bench: %s\n' "$*" >&2; }
die() { printf '==> bench: ERROR: %s\n' "$*" >&2; exit 1; }
# The helpers shared with test.sh, scripts/cluster.sh and scripts/browser-test.sh (next_free_port, stop_pid,
# wait_ready, on_exit...); they call log and die.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # followed with shellcheck -x
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "$0")/.."

ROUNDS=1 QUICK=0 SCENARIOS="s1,s2,s3,s4,s5,s6" WARMUP_SET="" BASELINE=relay
while (($#)); do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --scenarios) SCENARIOS=$2; shift 2 ;;
        --warmup) WARMUP_SET=$2; shift 2 ;;
        --baseline) BASELINE=$2; shift 2 ;;
        *) log "unknown option $1"; exit 2 ;;
    esac
done
# BASE_TARGET: chat-bench run's --target for the baseline (the stock hub speaks Chat's protocol).
case $BASELINE in
    relay) BASE_TARGET=baseline ;;
    stock | stock-redis) BASE_TARGET=stock ;;
    *) log "unknown --baseline $BASELINE (relay, stock or stock-redis)"; exit 2 ;;
esac

BENCH_DIR=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX")}
RESULTS=$BENCH_DIR/results.jsonl
mkdir -p "$BENCH_DIR"
touch "$RESULTS"
KEY="bench-signing-key-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
CHAT_PORT=$(next_free_port 5100)
BASELINE_PORT=$(next_free_port 5200)
SERVER_PID=""
# stock-redis: the private MariaDB and Redis, and what Chat and the stock hub are given to reach them.
MARIADB_PID="" REDIS_PID="" MYSQL_CONNECTION="" REDIS_CONFIG="" BACKING=()

# The warm-up is long because the server has one core: under full load .NET's tiered compilation takes well over
# 10 s to replace Chat's hot paths with optimized code (S2 at 3 s of warm-up measured half the steady rate).
if ((QUICK)); then
    DURATION=4 WARMUP=10 IDLE=3000 LEVELS="0,1000,3000" CONNECTS=1000 BIG_PAIRS=300 S6_USERS=2000
else
    DURATION=10 WARMUP=30 IDLE=15000 LEVELS="0,2000,5000,10000,15000" CONNECTS=3000 BIG_PAIRS=1000 S6_USERS=5000
fi
# S6's users: apart from the others (chat-bench's PresenceChurn.FirstUser), each with 20 contacts on a ring.
S6_FIRST=1000000 S6_CONTACTS=20
WARMUP=${WARMUP_SET:-$WARMUP}

# As the Dockerfile sets it, for every server measured here (Chat and the baselines alike) and the load generator:
# optimized code replaces quick code as soon as a method is hot, not after 1 s of an idle JIT on a one-core server.
export DOTNET_TC_CallCountingDelayMs=0

stop_server() {
    stop_pid "$SERVER_PID" server # SIGTERM, up to 30 s, then SIGKILL
    SERVER_PID=""
}
CLUSTER=""
stop_cluster() { [[ -z $CLUSTER ]] || CHAT_CLUSTER_DIR=$CLUSTER scripts/cluster.sh stop >/dev/null 2>&1 || true; }
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    stop_server
    stop_cluster
    stop_pid "$REDIS_PID" redis-server
    stop_pid "$MARIADB_PID" mariadbd
    exit "$rc"
}
on_exit cleanup

log "building (Release) into $BENCH_DIR"
built() { "$@" >"$BENCH_DIR/build.log" 2>&1 || { cat "$BENCH_DIR/build.log" >&2; die "$* failed"; }; }
built dotnet publish Chat.Api/Chat.Api.csproj -c Release -o "$BENCH_DIR/api" --nologo -v quiet
built dotnet build Chat.Bench/Chat.Bench.csproj -c Release --nologo -v quiet
BENCH=Chat.Bench/bin/Release/net10.0/chat-bench
ROOT=$BENCH_DIR/root
mkdir -p "$ROOT"
USERS=$((BIG_PAIRS * 2 + IDLE + 100))
if [[ $BASELINE == stock-redis ]]; then
    # mariadbd lives in /usr/sbin, which is not on a normal user's PATH on Debian.
    export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
    install_missing "${MARIADB_REDIS_COMMANDS[@]}"
    # Every commit flushed to disk, as in production and in S5: Chat's figures include the price of durability. The
    # buffer pool and redo log sized as for a server: with the tests' 128M and 48M MariaDB spent about a tenth more CPU.
    CHAT_MARIADB_FLUSH_LOG_AT_TRX_COMMIT=1 CHAT_MARIADB_BUFFER_POOL_SIZE=1G CHAT_MARIADB_LOG_FILE_SIZE=512M \
        start_private_mariadb --tries 5 --database chat \
        --log "$BENCH_DIR/mariadb.log" "$BENCH_DIR/services/mysql" "$(next_free_port 23346)"
    MARIADB_PID=$PRIVATE_MARIADB_PID
    start_private_redis --tries 5 --log "$BENCH_DIR/redis.log" "$BENCH_DIR/services/redis" "$(next_free_port 26399)"
    REDIS_PID=$PRIVATE_REDIS_PID
    # On the server's core, every thread of them (-a), as S5's cluster.
    taskset -a -p -c 0 "$MARIADB_PID" >/dev/null
    taskset -a -p -c 0 "$REDIS_PID" >/dev/null
    MYSQL_CONNECTION="Server=127.0.0.1;Port=$PRIVATE_MARIADB_PORT;Database=chat;User ID=chat;Password=chat"
    REDIS_CONFIG="127.0.0.1:$PRIVATE_REDIS_PORT"
    BACKING=(--backing-pids "$REDIS_PID,$MARIADB_PID")
    SEED_TO=(--mysql "$MYSQL_CONNECTION")
else
    SEED_TO=(--content-root "$ROOT")
fi
log "seeding $USERS users with one precomputed password hash"
"$BENCH" seed --users "$USERS" "${SEED_TO[@]}"
if [[ $SCENARIOS == *s6* ]]; then
    log "seeding S6's $S6_USERS users with $S6_CONTACTS contacts each"
    "$BENCH" seed --users "$S6_USERS" --first "$S6_FIRST" --contacts "$S6_CONTACTS" "${SEED_TO[@]}"
fi
CHAT_ENV=() # settings for Chat in one scenario only (S6)

start_server() { # start_server chat|baseline
    stop_server
    if [[ $1 == chat ]]; then
        # stock-redis: the durable, multi-instance configuration (MariaDB, Redis), one instance of it.
        local storage=()
        [[ $BASELINE != stock-redis ]] || storage=(ConnectionStrings__Chat="$MYSQL_CONNECTION" ConnectionStrings__Redis="$REDIS_CONFIG")
        # Limits are raised so the benchmark measures delivery, not the (per-user) abuse protection.
        env ASPNETCORE_ENVIRONMENT=Production Jwt__SigningKey="$KEY" Logging__LogLevel__Default=Warning \
            RateLimiting__Messages__PermitsPerSecond=1000000 RateLimiting__Messages__Burst=1000000 "${storage[@]}" "${CHAT_ENV[@]}" \
            taskset -c 0 dotnet "$BENCH_DIR/api/Chat.Api.dll" --contentRoot "$ROOT" --urls "http://127.0.0.1:$CHAT_PORT" \
            >>"$BENCH_DIR/chat.log" 2>&1 &
        SERVER_PID=$!
        wait_ready 60 "$SERVER_PID" Chat "$BENCH_DIR/chat.log" http_ok "http://127.0.0.1:$CHAT_PORT/health/ready"
    elif [[ $BASELINE == relay ]]; then
        taskset -c 0 "$BENCH" baseline --urls "http://127.0.0.1:$BASELINE_PORT" >>"$BENCH_DIR/baseline.log" 2>&1 &
        SERVER_PID=$!
        # The relay has no health endpoint: ready once it listens.
        wait_ready 60 "$SERVER_PID" "the relay" "$BENCH_DIR/baseline.log" port_in_use "$BASELINE_PORT"
    else
        local redis=()
        [[ $BASELINE != stock-redis ]] || redis=(--redis "$REDIS_CONFIG")
        # Server GC as Chat.Api's runtimeconfig asks (the Web SDK's default; chat-bench's own is off): on one core
        # the runtime runs workstation GC for both anyway. The key goes by the environment, as Chat's.
        DOTNET_gcServer=1 Jwt__SigningKey=$KEY \
            taskset -c 0 "$BENCH" stock --urls "http://127.0.0.1:$BASELINE_PORT" "${redis[@]}" >>"$BENCH_DIR/stock.log" 2>&1 &
        SERVER_PID=$!
        # No health endpoint either: ready once it listens.
        wait_ready 60 "$SERVER_PID" "the stock hub" "$BENCH_DIR/stock.log" port_in_use "$BASELINE_PORT"
    fi
}

# settle_database: with MariaDB, write out the pages earlier runs left dirty before the next run starts. InnoDB
# writes them lazily, at 200 pages a second by default, on the core the server under test shares with it: the run after
# three S2 runs (22,000 dirty pages) measured p99 1,005 ms in S3, where runs on a quiet database measured 34-67 ms
# (docs/benchmarks.md). Flushed at once here (a second or two), each run pays for its own writes only.
settle_database() {
    [[ -n $MARIADB_PID ]] || return 0
    local saved dirty i
    saved=$(private_mariadb_root -N -B -e "SELECT CONCAT('SET GLOBAL innodb_max_dirty_pages_pct = ', @@innodb_max_dirty_pages_pct,
        '; SET GLOBAL innodb_io_capacity = ', @@innodb_io_capacity, '; SET GLOBAL innodb_io_capacity_max = ', @@innodb_io_capacity_max)")
    private_mariadb_root -e "SET GLOBAL innodb_io_capacity_max = 40000; SET GLOBAL innodb_io_capacity = 20000; SET GLOBAL innodb_max_dirty_pages_pct = 0"
    for ((i = 0; i < 120; i++)); do
        dirty=$(private_mariadb_root -N -B -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | cut -f2)
        ((dirty < 100)) && break
        sleep 1
    done
    private_mariadb_root -e "$saved"
}

measure() { # measure chat|baseline ARGS... : one run on a fresh server, result appended to results.jsonl
    local target=$1; shift
    settle_database
    start_server "$target"
    local port=$CHAT_PORT; [[ $target == baseline ]] && port=$BASELINE_PORT && target=$BASE_TARGET
    taskset -c 1 "$BENCH" run --target "$target" --url "http://127.0.0.1:$port" --signing-key "$KEY" \
        --server-pid "$SERVER_PID" "${BACKING[@]}" --comparison "$BASELINE" \
        --warmup "$WARMUP" --duration "$DURATION" "$@" | tee -a "$RESULTS" >&2
    stop_server
}

abba() { # abba ARGS... : baseline, Chat, Chat, baseline, for each round
    for ((round = 0; round < ROUNDS; round++)); do
        measure baseline "$@"; measure chat "$@"; measure chat "$@"; measure baseline "$@"
    done
}

median_of() { # median_of TARGET SCENARIO FIELD [FILTER_FIELD=VALUE...] : over this comparison's runs
    python3 - "$RESULTS" "$BASELINE" "$@" <<'PY'
import json, statistics, sys
path, comparison, target, scenario, field, *filters = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
want = dict(f.split("=") for f in filters)
vals = [r[field] for r in rows if r["target"] == target and r["scenario"] == scenario
        and r.get("comparison", "relay") == comparison and all(str(r.get(k)) == v for k, v in want.items())]
print(statistics.median(vals) if vals else 0)
PY
}

[[ $SCENARIOS == *s2* ]] && {
    log "S2 throughput"
    abba --scenario s2 --pairs 100 --window 10
    abba --scenario s2 --pairs "$BIG_PAIRS" --window 2
    abba --scenario s2 --pairs 100 --window 10 --idle "$IDLE"
}
[[ $SCENARIOS == *s3* ]] && {
    max=$(median_of "$BASE_TARGET" s2 messagesPerSecond pairs=100 idle=0)
    if [[ $max == 0 ]]; then
        # Without S2 (in this run or in BENCH_DIR's earlier ones), measure the baseline's maximum alone.
        log "S3 needs the baseline's S2 maximum: measuring it (S2, 100 pairs, window 10, the baseline only)"
        for ((round = 0; round < ROUNDS; round++)); do measure baseline --scenario s2 --pairs 100 --window 10; done
        max=$(median_of "$BASE_TARGET" s2 messagesPerSecond pairs=100 idle=0)
        [[ $max != 0 ]] || die "the baseline delivered nothing in S2: no rate for S3"
    fi
    for pct in 25 50 75; do
        log "S3 latency at $pct% of the baseline's $max msg/s"
        abba --scenario s3 --pairs 100 --rate "$(python3 -c "print(int($max * $pct / 100))")"
    done
}
[[ $SCENARIOS == *s1* ]] && { log "S1 idle capacity"; abba --scenario s1 --levels "$LEVELS"; }
[[ $SCENARIOS == *s5* ]] && {
    # Chat only (the relay has no second instance): 100 pairs with sender and receiver on one instance, against
    # sender on one and receiver on the other, both instances in Redis mode. MariaDB, Redis, both instances (and
    # nginx, idle here) run on CPU 0, the load generator on CPU 1.
    log "S5 two instances over Redis (scripts/cluster.sh on CPU 0)"
    CLUSTER=$BENCH_DIR/cluster
    # Ports of its own, so that a cluster someone started with the defaults is not in the way.
    export CHAT_CLUSTER_PORT CHAT_CLUSTER_API1_PORT CHAT_CLUSTER_API2_PORT CHAT_CLUSTER_MYSQL_PORT CHAT_CLUSTER_REDIS_PORT
    CHAT_CLUSTER_PORT=$(next_free_port 18180)
    CHAT_CLUSTER_API1_PORT=$(next_free_port 15301)
    CHAT_CLUSTER_API2_PORT=$(next_free_port $((CHAT_CLUSTER_API1_PORT + 1)))
    CHAT_CLUSTER_MYSQL_PORT=$(next_free_port 23316)
    CHAT_CLUSTER_REDIS_PORT=$(next_free_port 26389)
    # Every commit flushed to disk, as in production: the figures include the price of durability.
    CHAT_MARIADB_FLUSH_LOG_AT_TRX_COMMIT=1 \
    CHAT_CLUSTER_DIR=$CLUSTER CHAT_CLUSTER_NO_BUILD=1 JWT_SIGNING_KEY=$KEY Logging__LogLevel__Default=Warning \
        RateLimiting__Messages__PermitsPerSecond=1000000 RateLimiting__Messages__Burst=1000000 Presence__TtlSeconds=3 \
        taskset -c 0 scripts/cluster.sh start >/dev/null
    "$BENCH" seed --users 300 --mysql "Server=127.0.0.1;Port=$CHAT_CLUSTER_MYSQL_PORT;Database=chat;User ID=chat;Password=chat"
    s5() { # s5 same|cross
        local receiver=(); [[ $1 == cross ]] && receiver=(--receiver-url "http://127.0.0.1:$CHAT_CLUSTER_API2_PORT")
        taskset -c 1 "$BENCH" run --target chat --url "http://127.0.0.1:$CHAT_CLUSTER_API1_PORT" "${receiver[@]}" --signing-key "$KEY" \
            --comparison "$BASELINE" --warmup "$WARMUP" --duration "$DURATION" --scenario s5 --pairs 100 --window 10 \
            | tee -a "$RESULTS" >&2
    }
    for ((round = 0; round < ROUNDS; round++)); do s5 same; s5 cross; s5 cross; s5 same; done
    stop_cluster
    CLUSTER=""
}
[[ $SCENARIOS == *s4* ]] && { log "S4 connect rate"; abba --scenario s4 --connections "$CONNECTS" --concurrency 50; }
[[ $SCENARIOS == *s6* ]] && {
    # Chat only, twice a round. No grace period: departures are announced at the next poll instead of 5 s later.
    log "S6 presence fan-out: $S6_USERS users with $S6_CONTACTS contacts each, churning"
    CHAT_ENV=(Presence__GraceSeconds=0)
    for ((round = 0; round < ROUNDS; round++)); do
        for _ in 1 2; do
            measure chat --scenario s6 --first "$S6_FIRST" --users "$S6_USERS" --contacts "$S6_CONTACTS"
        done
    done
    CHAT_ENV=()
}

python3 - "$RESULTS" "$BASELINE" "$BASE_TARGET" <<'PY'
import json, math, statistics, sys
from collections import defaultdict
path, comparison, base_target = sys.argv[1:]
base_name = {"relay": "relay", "stock": "stock SignalR", "stock-redis": "stock SignalR + Redis"}[comparison]
chat_name = "Chat (MariaDB + Redis)" if comparison == "stock-redis" else "Chat"
# Runs written before runs were tagged with their comparison were all against the relay.
rows = [r for r in map(json.loads, open(path)) if r.get("comparison", "relay") == comparison]
keys = {"s1": ("levels",), "s2": ("pairs", "idle", "window"), "s3": ("pairs", "rate"), "s4": ("connections", "concurrency"),
        "s6": ("users", "contacts")}
# clientCpuPercent is the load generator's own share of its core: near 100, the client sets the pace. S3's
# undelivered: sent in the measured window but not delivered by the end of the drain (an overloaded target).
figures = {"s1": ["bytesPerConnection", "connectionsHeld"],
           "s2": ["messagesPerSecond", "serverCpuMicrosecondsPerMessage", "backingCpuMicrosecondsPerMessage", "clientCpuPercent"],
           "s3": ["p50Ms", "p99Ms", "p999Ms", "undelivered", "clientCpuPercent"], "s4": ["connectsPerSecond", "p99Ms"],
           "s6": ["eventsPerSecond", "serverCpuMicrosecondsPerEvent", "backingCpuMicrosecondsPerEvent", "missingEvents"]}
groups = defaultdict(lambda: defaultdict(list))
s5 = defaultdict(list)
for r in [r for r in rows if r["scenario"] == "s5"]:
    s5[r["placement"]].append(r["messagesPerSecond"])
rows = [r for r in rows if r["scenario"] != "s5"]
for r in rows:
    key = (r["scenario"],) + tuple(str(r.get(k, "")) for k in keys[r["scenario"]] if k in r)
    groups[key][r["target"]].append(r)

def median(runs, figure):
    # A percentile of a run that delivered nothing is null: it counts as infinite, not as missing.
    values = [math.inf if r.get(figure) is None else r[figure] for r in runs if figure in r]
    return statistics.median(values) if values else None

def show(v):
    if v is None or v == math.inf:
        return "n/a" if v is None else "none delivered"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"

print(f"| scenario | parameters | figure | {base_name} (median) | {chat_name} (median) | Chat/{base_name} |")
print("|---|---|---|---|---|---|")
for key, by_target in groups.items():
    scenario = key[0]
    params = ", ".join(f"{k}={v}" for k, v in zip([k for k in keys[scenario]], key[1:]))
    for figure in figures[scenario]:
        b, c = median(by_target.get(base_target, []), figure), median(by_target.get("chat", []), figure)
        if b is None and c is None:
            continue
        finite = b is not None and c is not None and math.isfinite(b) and math.isfinite(c)
        ratio = f"{c / b:.2f}" if finite and b else "n/a"
        print(f"| {scenario.upper()} | {params} | {figure} | {show(b)} | {show(c)} | {ratio} |")
if s5:
    same, cross = (statistics.median(s5[p]) if s5[p] else 0 for p in ("same", "cross"))
    print()
    print("| S5 (Chat over Redis, 100 pairs) | same instance | across instances | across/same |")
    print("|---|---|---|---|")
    print(f"| messages/s (median) | {same:.4g} | {cross:.4g} | {cross / same if same else 0:.2f} |")
PY
log "raw results: $RESULTS"
