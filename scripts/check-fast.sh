#!/usr/bin/env bash
# The fast lane: lint, format, import layers, types, and the tests that start no kernel, browser,
# database server or cluster (-m "not slow and not browser and not postgres and not cluster"), on every core.
# The pre-commit hook runs it (bash scripts/install-hooks.sh installs the hook).
# Extra arguments go to pytest, e.g. `bash scripts/check-fast.sh tests/gradebook`; a later -m replaces ours.
# It sets nothing up: run scripts/setup.sh (or scripts/test.sh) once first.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
layers=$(mktemp)
.venv/bin/lint-imports --no-cache >"$layers" || { cat "$layers"; exit 1; }
rm -f "$layers"
.venv/bin/mypy
workers=$(.venv/bin/python -c "import os; print(max(1, len(os.sched_getaffinity(0))))")
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "$workers" --dist loadgroup \
    -m "not slow and not browser and not postgres and not cluster" "$@"
