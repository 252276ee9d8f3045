#!/usr/bin/env bash
# Set up everything the course needs on a fresh Debian machine with Python 3.11:
# a virtual environment in .venv with the project and its test dependencies.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: bubblewrap sandboxes student code during grading (setpriv
# and prlimit come with util-linux); chromium is the headless browser of the
# feedback tests (Playwright drives it; no browser is downloaded); the
# PostgreSQL server lets the tests run the gradebook tools on PostgreSQL too.
missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap util-linux)
command -v chromium >/dev/null || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)  # tests/engine/test_cluster.py makes a TLS certificate
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} with apt-get"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "setup: missing system packages; run: sudo apt-get install ${missing[*]}" >&2
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
