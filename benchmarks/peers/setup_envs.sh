#!/usr/bin/env bash
# Create the isolated virtual environments used to benchmark peer libraries.
#
#   benchmarks/.envs/crowdkit : crowd-kit with pandas<3 and scikit-learn<1.6
#                               (crowd-kit crashes with newer pandas/sklearn).
#
# Idempotent: if an environment already has its packages at acceptable
# versions, it is left alone and the script returns in well under a second.  Only PyPI is
# needed.  Exits non-zero with a message on failure.
#
# Environment variables:
#   PYTHON        interpreter used to create the venv (default: python3)
#   SKCROWD_ENVS  where to put the envs (default: <repo>/benchmarks/.envs)
set -euo pipefail

log() { printf '[setup_envs] %s\n' "$*" >&2; }
die() { printf '[setup_envs] ERROR: %s\n' "$*" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench_dir="$(dirname "$here")"
envs_dir="${SKCROWD_ENVS:-$bench_dir/.envs}"
python_bin="${PYTHON:-python3}"

command -v "$python_bin" >/dev/null 2>&1 || die "'$python_bin' not found; set PYTHON=/path/to/python3"

# Quick check (no heavy imports): succeeds iff the env's python runs and the
# installed distributions have acceptable versions.
crowdkit_installed() {
    local py="$1/bin/python"
    [ -x "$py" ] || return 1
    "$py" - <<'PY' >/dev/null 2>&1
import importlib.metadata as m, importlib.util
maj = lambda d: tuple(int(x) for x in m.version(d).split(".")[:2])
m.version("crowd-kit")
assert maj("pandas") < (3, 0) and maj("scikit-learn") < (1, 6)
assert importlib.util.find_spec("crowdkit") is not None
PY
}

# Full check after installing: the aggregators really import.
crowdkit_works() {
    crowdkit_installed "$1" || return 1
    "$1/bin/python" -c "import crowdkit.aggregation" >/dev/null 2>&1
}

setup_crowdkit() {
    local env="$envs_dir/crowdkit"
    if crowdkit_installed "$env"; then
        log "crowdkit env already ready at $env (skipping)"
        return 0
    fi
    mkdir -p "$envs_dir"
    if [ ! -x "$env/bin/python" ]; then
        [ -e "$env" ] && { log "removing broken env at $env"; rm -rf "$env"; }
        log "creating venv $env with $("$python_bin" --version 2>&1)"
        "$python_bin" -m venv "$env" || die "could not create venv at $env (is the python venv module installed?)"
    fi
    log "installing crowd-kit \"pandas<3\" \"scikit-learn<1.6\" into $env (takes a few minutes)"
    if ! "$env/bin/python" -m pip install --quiet --upgrade pip >&2; then
        log "warning: could not upgrade pip; continuing with the bundled one"
    fi
    "$env/bin/python" -m pip install --quiet crowd-kit "pandas<3" "scikit-learn<1.6" >&2 \
        || die "pip install of crowd-kit into $env failed (see pip output above)"
    crowdkit_works "$env" \
        || die "crowd-kit installed into $env but 'import crowdkit.aggregation' or the version checks fail"
    log "crowdkit env ready: $("$env/bin/python" -c 'import importlib.metadata as m; print(", ".join(p + " " + m.version(p) for p in ("crowd-kit", "pandas", "scikit-learn", "numpy")))')"
}

setup_crowdkit
log "done"
