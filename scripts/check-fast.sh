#!/usr/bin/env bash
# The fast lane, in under a minute: lint, format, import layers, types, and the tests that start no
# kernel (`-m "not slow"`). The pre-commit hook runs it (bash scripts/install-hooks.sh installs the hook).
# Extra arguments go to pytest, e.g. `bash scripts/check-fast.sh tests/gradebook` or `... -m "not slow and not browser"`.
# It does not set up anything: run scripts/setup.sh (or scripts/test.sh) once first.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
layers=$(mktemp)
.venv/bin/lint-imports --no-cache >"$layers" || { cat "$layers"; exit 1; }
rm -f "$layers"
.venv/bin/mypy
# a marker expression given after ours wins (pytest keeps the last -m)
exec .venv/bin/python -m pytest -q -p no:cacheprovider -m "not slow" "$@"
