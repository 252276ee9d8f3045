#!/usr/bin/env bash
# Set up everything the course needs on a fresh Debian machine with Python 3.11:
# a virtual environment in .venv with the project and its test dependencies.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# bubblewrap sandboxes student code during grading (see README); setpriv and
# prlimit come with util-linux.
if ! command -v bwrap >/dev/null; then
    echo "setup: installing bubblewrap (the grading sandbox)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq bubblewrap util-linux >/dev/null
    else
        echo "setup: bubblewrap is missing; run: sudo apt-get install bubblewrap" >&2
        exit 1
    fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
# Reinstall only when the dependencies changed since the last install.
stamp=.venv/.installed-pyproject
if ! cmp -s pyproject.toml "$stamp"; then
    echo "setup: installing the project and its test dependencies into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
    cp pyproject.toml "$stamp"
fi
echo "setup: done"
