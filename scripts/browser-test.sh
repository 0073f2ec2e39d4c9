#!/usr/bin/env bash
# End-to-end test of the browser client: two people sign up and chat through the page in Debian's Chromium.
#
#   scripts/browser-test.sh
#
# Installs Debian's chromium with apt-get if /usr/bin/chromium is missing, installs the test's npm packages
# (playwright-core only: it downloads no browser), publishes Chat.Api (Release) and starts it in embedded mode
# (SQLite in a temporary content root, in-process stores) on a free loopback port, waits until it is ready, runs
# `node --test Chat.Tests/Browser/` against it, and stops it again, also on failure or Ctrl-C. Exits with the
# test runner's exit code.
#
# Environment knobs:
#   CHAT_PUBLISH_DIR=DIR      use this `dotnet publish` output instead of publishing now
#   CHAT_SCREENSHOTS=DIR      where the test saves alice.png and bob.png (default: artifacts/browser)
#   CHAT_BROWSER_TEST_PORT=N  first port tried for the app (default 5380; the next free one is used)
# Extra arguments go to `node --test` (e.g. --test-reporter=spec).
set -euo pipefail

log() { printf '==> browser-test.sh: %s\n' "$*" >&2; }
die() { printf '==> browser-test.sh: ERROR: %s\n' "$*" >&2; exit 1; }
# The helpers shared with test.sh, scripts/cluster.sh and scripts/bench.sh (apt_install, next_free_port,
# wait_ready, stop_pid, elapsed...); they call log and die.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # followed with shellcheck -x
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # playwright-core downloads nothing anyway; the test uses Debian's chromium
export CHAT_SCREENSHOTS=${CHAT_SCREENSHOTS:-$ROOT/artifacts/browser}

# ---------------------------------------------------------------------------
# Cleanup: runs on every exit (normal, error, Ctrl-C via the INT/TERM traps).
# ---------------------------------------------------------------------------
TMP_DIR=""
APP_PID=""
TEST_RC=""

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    stop_pid "$APP_PID" "the app" 15 # SIGTERM, up to 15 s, then SIGKILL
    if [[ -n $TEST_RC && $TEST_RC != 0 && -n $TMP_DIR && -s $TMP_DIR/app.log ]]; then
        log "the app's log (last 60 lines):"
        tail -n 60 "$TMP_DIR/app.log" >&2
    fi
    finish_run "$rc" "$TEST_RC" "$TMP_DIR"
}
on_exit cleanup

TMP_DIR=$(mktemp -d -t chat-browser.XXXXXXXX)

# ---------------------------------------------------------------------------
# Chromium (Debian's package; a test tool's own browser download cannot work here).
# ---------------------------------------------------------------------------
if [[ ! -x /usr/bin/chromium ]]; then
    require_root_or_sudo chromium
    log "installing chromium with apt-get"
    apt_install chromium fonts-dejavu-core fonts-liberation
fi
log "browser: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"

{ command -v node && command -v npm; } >/dev/null || die "Node.js and npm are needed (apt-get install nodejs npm)"

log "npm ci in Chat.Tests/Browser"
(cd Chat.Tests/Browser && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

# ---------------------------------------------------------------------------
# The app: published, run from a copy in a temporary directory, which is its content root (the SQLite file
# lands there), in Production with a fresh signing key.
# ---------------------------------------------------------------------------
APP_DIR=$TMP_DIR/app
if [[ -n ${CHAT_PUBLISH_DIR:-} ]]; then
    [[ -f $CHAT_PUBLISH_DIR/Chat.Api.dll ]] || die "CHAT_PUBLISH_DIR=$CHAT_PUBLISH_DIR has no Chat.Api.dll"
    log "using the published app in $CHAT_PUBLISH_DIR"
    cp -R "$CHAT_PUBLISH_DIR" "$APP_DIR"
else
    log "dotnet publish Chat.Api -c Release"
    dotnet publish Chat.Api -c Release -o "$APP_DIR" -nologo -v:q "-clp:ErrorsOnly;NoSummary" \
        || die "dotnet publish failed"
fi
[[ -f $APP_DIR/wwwroot/index.html && -f $APP_DIR/wwwroot/lib/signalr/signalr.min.js ]] \
    || die "the published app lacks wwwroot/index.html or wwwroot/lib/signalr/signalr.min.js"

PORT=$(next_free_port "${CHAT_BROWSER_TEST_PORT:-5380}")
URL=http://127.0.0.1:$PORT

SIGNING_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
log "starting the app on $URL (embedded mode, content root $APP_DIR)"
# No connection strings: SQLite and in-process stores. Settings from the caller's environment that would
# point it elsewhere are dropped.
(
    cd "$APP_DIR"
    exec env -u ConnectionStrings__Chat -u ConnectionStrings__Redis \
        ASPNETCORE_ENVIRONMENT=Production Jwt__SigningKey="$SIGNING_KEY" \
        dotnet Chat.Api.dll --urls "$URL" --contentRoot "$APP_DIR"
) >"$TMP_DIR/app.log" 2>&1 </dev/null &
APP_PID=$!

wait_ready 60 "$APP_PID" "the app" "$TMP_DIR/app.log" http_ok "$URL/health/ready"
log "app ready in $(elapsed) s"

# ---------------------------------------------------------------------------
# The test.
# ---------------------------------------------------------------------------
log "running: node --test Chat.Tests/Browser/ $*"
set +e
CHAT_URL=$URL node --test "$@" Chat.Tests/Browser/
TEST_RC=$?
set -e
exit "$TEST_RC"
