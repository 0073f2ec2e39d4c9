#!/usr/bin/env bash
# Chat's benchmark: Chat (embedded mode, one instance) against a bare Kestrel WebSocket relay, measured by the same
# load generator. The server is pinned to CPU 0 and the load generator to CPU 1; each figure is measured in the
# order baseline, Chat, Chat, baseline (A B B A) per round, and the medians and the Chat/baseline ratio are printed.
#
#   scripts/bench.sh                 # every scenario, one round (about 17 minutes on 2 cores)
#   scripts/bench.sh --quick         # shorter runs and fewer connections, to try it out (about 3 minutes)
#   scripts/bench.sh --rounds 2 --scenarios s2,s3
#   scripts/bench.sh --scenarios s2 --warmup 60   # seconds of load before each measured window (default 30)
#   scripts/bench.sh --scenarios s5      # two instances over Redis (scripts/cluster.sh: MariaDB, Redis, 2 instances)
#
# Results: one JSON line per run in $BENCH_DIR/results.jsonl, and a Markdown summary on standard output.
# Environment: BENCH_DIR=DIR keeps the build, logs and results there (default: a new temporary directory).
# The servers listen on the first free loopback ports from 5100 (Chat) and 5200 (the relay); S5's cluster on its
# own ones (from 18180, 15301, 23316 and 26389), apart from a cluster someone started with the defaults.
set -euo pipefail

log() { printf '==> bench: %s\n' "$*" >&2; }
die() { printf '==> bench: ERROR: %s\n' "$*" >&2; exit 1; }
# The helpers shared with test.sh, scripts/cluster.sh and scripts/browser-test.sh (next_free_port, stop_pid,
# wait_ready, on_exit...); they call log and die.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # followed with shellcheck -x
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "$0")/.."

ROUNDS=1 QUICK=0 SCENARIOS="s1,s2,s3,s4,s5" WARMUP_SET=""
while (($#)); do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --scenarios) SCENARIOS=$2; shift 2 ;;
        --warmup) WARMUP_SET=$2; shift 2 ;;
        *) log "unknown option $1"; exit 2 ;;
    esac
done

BENCH_DIR=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX")}
RESULTS=$BENCH_DIR/results.jsonl
KEY="bench-signing-key-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
CHAT_PORT=$(next_free_port 5100)
BASELINE_PORT=$(next_free_port 5200)
SERVER_PID=""

# The warm-up is long because the server has one core: under full load .NET's tiered compilation takes well over
# 10 s to replace Chat's hot paths with optimized code (S2 at 3 s of warm-up measured half the steady rate).
if ((QUICK)); then
    DURATION=4 WARMUP=10 IDLE=3000 LEVELS="0,1000,3000" CONNECTS=1000 BIG_PAIRS=300
else
    DURATION=10 WARMUP=30 IDLE=15000 LEVELS="0,2000,5000,10000,15000" CONNECTS=3000 BIG_PAIRS=1000
fi
WARMUP=${WARMUP_SET:-$WARMUP}

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
    exit "$rc"
}
on_exit cleanup

log "building (Release) into $BENCH_DIR"
dotnet publish Chat.Api/Chat.Api.csproj -c Release -o "$BENCH_DIR/api" --nologo -v quiet >/dev/null
dotnet build Chat.Bench/Chat.Bench.csproj -c Release --nologo -v quiet >/dev/null
BENCH=Chat.Bench/bin/Release/net10.0/chat-bench
ROOT=$BENCH_DIR/root
mkdir -p "$ROOT"
log "seeding $((BIG_PAIRS * 2 + IDLE + 100)) users with one precomputed password hash"
"$BENCH" seed --users $((BIG_PAIRS * 2 + IDLE + 100)) --content-root "$ROOT"

start_server() { # start_server chat|baseline
    stop_server
    if [[ $1 == chat ]]; then
        # Limits are raised so the benchmark measures delivery, not the (per-user) abuse protection.
        ASPNETCORE_ENVIRONMENT=Production Jwt__SigningKey=$KEY Logging__LogLevel__Default=Warning \
            RateLimiting__Messages__PermitsPerSecond=1000000 RateLimiting__Messages__Burst=1000000 \
            taskset -c 0 dotnet "$BENCH_DIR/api/Chat.Api.dll" --contentRoot "$ROOT" --urls "http://127.0.0.1:$CHAT_PORT" \
            >>"$BENCH_DIR/chat.log" 2>&1 &
        SERVER_PID=$!
        wait_ready 60 "$SERVER_PID" Chat "$BENCH_DIR/chat.log" http_ok "http://127.0.0.1:$CHAT_PORT/health/ready"
    else
        taskset -c 0 "$BENCH" baseline --urls "http://127.0.0.1:$BASELINE_PORT" >>"$BENCH_DIR/baseline.log" 2>&1 &
        SERVER_PID=$!
        # The relay has no health endpoint: ready once it listens.
        wait_ready 60 "$SERVER_PID" "the relay" "$BENCH_DIR/baseline.log" port_in_use "$BASELINE_PORT"
    fi
}

measure() { # measure chat|baseline ARGS... : one run on a fresh server, result appended to results.jsonl
    local target=$1; shift
    start_server "$target"
    local port=$CHAT_PORT; [[ $target == baseline ]] && port=$BASELINE_PORT
    taskset -c 1 "$BENCH" run --target "$target" --url "http://127.0.0.1:$port" --signing-key "$KEY" \
        --server-pid "$SERVER_PID" --warmup "$WARMUP" --duration "$DURATION" "$@" | tee -a "$RESULTS" >&2
    stop_server
}

abba() { # abba ARGS... : baseline, Chat, Chat, baseline, for each round
    for ((round = 0; round < ROUNDS; round++)); do
        measure baseline "$@"; measure chat "$@"; measure chat "$@"; measure baseline "$@"
    done
}

median_of() { # median_of TARGET SCENARIO FIELD [FILTER_FIELD=VALUE...]
    python3 - "$RESULTS" "$@" <<'PY'
import json, statistics, sys
path, target, scenario, field, *filters = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
want = dict(f.split("=") for f in filters)
vals = [r[field] for r in rows if r["target"] == target and r["scenario"] == scenario
        and all(str(r.get(k)) == v for k, v in want.items())]
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
    max=$(median_of baseline s2 messagesPerSecond pairs=100 idle=0)
    [[ $max == 0 ]] && { log "S3 needs S2's baseline maximum: run s2 too"; exit 2; }
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
            --warmup "$WARMUP" --duration "$DURATION" --scenario s5 --pairs 100 --window 10 | tee -a "$RESULTS" >&2
    }
    for ((round = 0; round < ROUNDS; round++)); do s5 same; s5 cross; s5 cross; s5 same; done
    stop_cluster
    CLUSTER=""
}
[[ $SCENARIOS == *s4* ]] && { log "S4 connect rate"; abba --scenario s4 --connections "$CONNECTS" --concurrency 50; }

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
from collections import defaultdict
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = {"s1": ("levels",), "s2": ("pairs", "idle", "window"), "s3": ("pairs", "rate"), "s4": ("connections", "concurrency")}
# clientCpuPercent is the load generator's own share of its core: near 100, the client sets the pace.
figures = {"s1": ["bytesPerConnection", "connectionsHeld"],
           "s2": ["messagesPerSecond", "serverCpuMicrosecondsPerMessage", "clientCpuPercent"],
           "s3": ["p50Ms", "p99Ms", "p999Ms", "clientCpuPercent"], "s4": ["connectsPerSecond", "p99Ms"]}
groups = defaultdict(lambda: defaultdict(list))
s5 = defaultdict(list)
for r in [r for r in rows if r["scenario"] == "s5"]:
    s5[r["placement"]].append(r["messagesPerSecond"])
rows = [r for r in rows if r["scenario"] != "s5"]
for r in rows:
    key = (r["scenario"],) + tuple(str(r.get(k, "")) for k in keys[r["scenario"]] if k in r)
    groups[key][r["target"]].append(r)
print("| scenario | parameters | figure | baseline (median) | Chat (median) | Chat/baseline |")
print("|---|---|---|---|---|---|")
for key, by_target in groups.items():
    scenario = key[0]
    params = ", ".join(f"{k}={v}" for k, v in zip([k for k in keys[scenario]], key[1:]))
    for figure in figures[scenario]:
        b = statistics.median(r[figure] for r in by_target.get("baseline", [])) if by_target.get("baseline") else 0
        c = statistics.median(r[figure] for r in by_target.get("chat", [])) if by_target.get("chat") else 0
        ratio = f"{c / b:.2f}" if b else "n/a"
        print(f"| {scenario.upper()} | {params} | {figure} | {b:.4g} | {c:.4g} | {ratio} |")
if s5:
    same, cross = (statistics.median(s5[p]) if s5[p] else 0 for p in ("same", "cross"))
    print()
    print("| S5 (Chat over Redis, 100 pairs) | same instance | across instances | across/same |")
    print("|---|---|---|---|")
    print(f"| messages/s (median) | {same:.4g} | {cross:.4g} | {cross / same if same else 0:.2f} |")
PY
log "raw results: $RESULTS"
