#!/usr/bin/env bash
# Build the documentation (HTML, warnings as errors) and check the user guide's
# code. Installs nothing: run `pip install -e ".[docs]"` first.
#
#   scripts/build_docs.sh           build into docs/_build/html (incremental:
#                                   gallery examples rerun only when changed)
#   scripts/build_docs.sh --clean   remove everything generated first
#
# The guide's doctests need pytest (the `test` extra); they are skipped with a
# note when it is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--clean" ]]; then
    rm -rf docs/_build docs/api docs/auto_examples
fi

python -m sphinx -W --keep-going -b html docs docs/_build/html

if python -c "import pytest" 2>/dev/null; then
    python -m pytest -q -p no:cacheprovider --doctest-glob="*.rst" docs/guide
else
    echo "pytest not installed: the user guide's doctests were not run"
fi
echo "documentation: docs/_build/html/index.html"
