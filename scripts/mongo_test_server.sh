#!/usr/bin/env bash
# A MongoDB-wire-compatible server for skcrowd's MongoStore tests.
#
#   bash scripts/mongo_test_server.sh start   # install if needed, start, print the URI
#   bash scripts/mongo_test_server.sh stop    # stop the server started here (by its PID)
#   bash scripts/mongo_test_server.sh uri     # print the URI of the running server
#
# No real mongod installs from the registries this project reaches, so the
# tests use SecantusDB's Python server (a MongoDB wire-protocol server). It is
# GPL-2.0 and pins its own numpy, so it lives in its OWN virtual environment
# and is never a dependency of skcrowd: it is a test tool, like a database
# container. The data lives in memory (--storage-path :memory:) and is gone
# when the server stops.
#
# Environment: SKCROWD_MONGO_PORT (default: a free port), SKCROWD_MONGO_VENV
# (default: ~/.cache/skcrowd/secantusdb-0.7.0b3), SKCROWD_MONGO_STATE (where
# the PID, port and log go; default: $TMPDIR/skcrowd-mongo-test), PYTHON (the
# interpreter that creates the venv; default: python3).
set -euo pipefail

PIN="secantusdb==0.7.0b3"   # exact pin: only pre-releases exist
PYTHON="${PYTHON:-python3}"
VENV="${SKCROWD_MONGO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/skcrowd/secantusdb-0.7.0b3}"
STATE="${SKCROWD_MONGO_STATE:-${TMPDIR:-/tmp}/skcrowd-mongo-test}"
PID_FILE="$STATE/server.pid"
PORT_FILE="$STATE/server.port"
LOG_FILE="$STATE/server.log"

log() { echo "mongo_test_server: $*" >&2; }

uri_for() { echo "mongodb://127.0.0.1:$1/?directConnection=true"; }

install_server() {
    if [ -x "$VENV/bin/secantusd-py" ] && [ -x "$VENV/bin/python" ] \
        && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('secantusdb') != '0.7.0b3')" 2>/dev/null; then
        return
    fi
    log "installing $PIN into its own venv $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$PIN" >&2
}

# ping with the pymongo that SecantusDB itself depends on (in its venv)
ping() {
    "$VENV/bin/python" - "$(uri_for "$1")" <<'PY' >/dev/null 2>&1
import sys
from pymongo import MongoClient
client = MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000)
client.admin.command("ping")
PY
}

running_port() {
    [ -f "$PID_FILE" ] && [ -f "$PORT_FILE" ] || return 1
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || return 1
    ping "$(cat "$PORT_FILE")" || return 1
    cat "$PORT_FILE"
}

free_port() {
    "$PYTHON" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()"
}

start() {
    install_server
    mkdir -p "$STATE"
    local port
    if port="$(running_port)"; then
        log "already running on port $port (PID $(cat "$PID_FILE"))"
        uri_for "$port"
        return
    fi
    port="${SKCROWD_MONGO_PORT:-$(free_port)}"
    # setsid: the server gets its own session, so it outlives this script
    # and is stopped only by `stop` (its PID), never by a broad kill.
    setsid "$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$port" \
        --storage-path :memory: --log-level WARNING >"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    echo "$port" >"$PORT_FILE"
    local waited=0
    until ping "$port"; do
        if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
            log "the server exited; its log:"; cat "$LOG_FILE" >&2
            rm -f "$PID_FILE" "$PORT_FILE"
            exit 1
        fi
        waited=$((waited + 1))
        if [ "$waited" -ge 120 ]; then
            log "no ping after 60 s; stopping it"; stop; exit 1
        fi
        sleep 0.5
    done
    log "started on port $port (PID $(cat "$PID_FILE"))"
    uri_for "$port"
}

stop() {
    [ -f "$PID_FILE" ] || { log "not running"; return 0; }
    local pid
    pid="$(cat "$PID_FILE")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
        log "stopped PID $pid"
    fi
    rm -f "$PID_FILE" "$PORT_FILE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    uri) port="$(running_port)" || { log "not running"; exit 1; }; uri_for "$port" ;;
    *) echo "usage: $0 start|stop|uri" >&2; exit 2 ;;
esac
