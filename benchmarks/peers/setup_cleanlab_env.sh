#!/usr/bin/env bash
# Create the isolated virtual environment used to benchmark cleanlab's CROWDLAB.
#
#   benchmarks/.envs/cleanlab : cleanlab (2.x from PyPI) with whatever pandas,
#                               numpy and scikit-learn versions it pulls in.
#
# Idempotent: if the environment already imports cleanlab's multiannotator
# module, it is left alone and the script returns quickly.  Only PyPI is
# needed.  Exits non-zero with a message on failure.
#
# Environment variables:
#   PYTHON            interpreter used to create the venv (default: python3)
#   SKCROWD_ENVS      where to put the envs (default: <repo>/benchmarks/.envs)
#   CLEANLAB_VERSION  pip requirement for cleanlab (default: "cleanlab>=2.9,<3")
set -euo pipefail

log() { printf '[setup_cleanlab_env] %s\n' "$*" >&2; }
die() { printf '[setup_cleanlab_env] ERROR: %s\n' "$*" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench_dir="$(dirname "$here")"
envs_dir="${SKCROWD_ENVS:-$bench_dir/.envs}"
python_bin="${PYTHON:-python3}"
requirement="${CLEANLAB_VERSION:-cleanlab>=2.9,<3}"
env="$envs_dir/cleanlab"

command -v "$python_bin" >/dev/null 2>&1 || die "'$python_bin' not found; set PYTHON=/path/to/python3"

cleanlab_works() {
    local py="$1/bin/python"
    [ -x "$py" ] || return 1
    "$py" -c "import cleanlab.multiannotator, pandas, sklearn" >/dev/null 2>&1
}

if cleanlab_works "$env"; then
    log "cleanlab env already ready at $env (skipping)"
    exit 0
fi
mkdir -p "$envs_dir"
if [ ! -x "$env/bin/python" ]; then
    [ -e "$env" ] && { log "removing broken env at $env"; rm -rf "$env"; }
    log "creating venv $env with $("$python_bin" --version 2>&1)"
    "$python_bin" -m venv "$env" || die "could not create venv at $env (is the python venv module installed?)"
fi
log "installing \"$requirement\" pandas scikit-learn into $env"
if ! "$env/bin/python" -m pip install --quiet --upgrade pip >&2; then
    log "warning: could not upgrade pip; continuing with the bundled one"
fi
"$env/bin/python" -m pip install --quiet "$requirement" pandas scikit-learn >&2 \
    || die "pip install of cleanlab into $env failed (see pip output above)"
cleanlab_works "$env" \
    || die "cleanlab installed into $env but 'import cleanlab.multiannotator' fails"
log "cleanlab env ready: $("$env/bin/python" -c 'import importlib.metadata as m; print(", ".join(p + " " + m.version(p) for p in ("cleanlab", "pandas", "scikit-learn", "numpy")))')"
