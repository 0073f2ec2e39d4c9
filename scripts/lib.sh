# shellcheck shell=bash
# Helpers shared by test.sh, scripts/cluster.sh and scripts/browser-test.sh: each one lives here only.
#
# Source it near the top, after defining log and die, which these helpers call (each script keeps its own, with
# its own name in the messages):
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"            from scripts/
#   source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"    from the repository root
# Sourcing only defines functions and sets START_TIME (for elapsed), SUDO and APT_UPDATED; it changes no shell
# option and no directory. Every helper works under set -euo pipefail.

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

# finish_run RC TEST_RC TMP_DIR: the end of a test script's cleanup: remove TMP_DIR (if not empty), log the run's
# time and exit with TEST_RC if the tests ran (it is not empty: their exit code is the script's), else with RC.
finish_run() {
    local rc=$1 test_rc=$2 tmp_dir=$3
    [[ -z $tmp_dir ]] || rm -rf "$tmp_dir"
    [[ -z $test_rc ]] || rc=$test_rc
    log "finished in $(elapsed) s (exit code $rc)"
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
