#!/usr/bin/env bash
# Use the repository's hooks (.githooks/): before each commit, the fast lane (scripts/check-fast.sh).
# Undo with `git config --unset core.hooksPath`.
set -euo pipefail
cd "$(dirname "$0")/.."
git config core.hooksPath .githooks
echo "pre-commit hook installed: each commit first runs scripts/check-fast.sh (git commit --no-verify skips it)"
