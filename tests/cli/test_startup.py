"""Commands start fast: ``--help`` and the reading commands import neither nbgrader nor matplotlib."""

import json
import subprocess
import sys

import pytest

#: Run the command line in a fresh interpreter, then print the top-level packages it imported.
PROBE = """
import json, sys
from gradebook_tools.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "modules": sorted({name.split(".")[0] for name in sys.modules})}))
"""

HEAVY = {"nbgrader", "matplotlib", "nbformat", "jsonschema", "rfc3987_syntax", "jupyter_server", "tornado"}


def imported(*argv: str) -> tuple[int, set[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    last = json.loads(result.stdout.strip().splitlines()[-1])
    return last["code"], set(last["modules"])


def test_help_imports_neither_nbgrader_nor_matplotlib_nor_the_database_layer():
    code, modules = imported("--help")
    assert code == 0
    assert not modules & (HEAVY | {"sqlalchemy", "numpy", "traitlets", "jinja2"})


@pytest.mark.parametrize("command", ["table", "export", "items", "groups", "roster"])
def test_every_command_help_is_as_light(command):
    code, modules = imported(command, "--help")
    assert code == 0
    assert not modules & (HEAVY | {"sqlalchemy"})


def test_table_and_export_read_the_gradebook_without_nbgrader(hand_course):
    for argv in (["table"], ["export", "--format", "canvas"], ["export", "--format", "json"]):
        code, modules = imported(*argv, "--course", str(hand_course))
        assert code == 0, argv
        assert "sqlalchemy" in modules  # it did read the gradebook
        assert not modules & HEAVY, argv


def test_report_imports_matplotlib_but_not_nbgrader(hand_course, tmp_path):
    code, modules = imported("report", "--course", str(hand_course), "--out", str(tmp_path / "r.html"))
    assert code == 0
    assert "matplotlib" in modules
    assert not modules & (HEAVY - {"matplotlib"})
