"""``gradebook-tools grade`` checks the course and starts its workers before it imports nbgrader.

The workers' server imports nbgrader (with jsonschema, ~1-2 s) while the
coordinator imports it too: the course checks and the runner must not import it
first, or the two imports run one after the other and every run waits for one.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.course import REPO

WHAT_GRADE_IMPORTS_FIRST = """
import json, sys
from gradebook_tools.engine.grade_course import CourseProblem, course_root, make_runner, released_assignments
import gradebook_tools.engine.local
print(json.dumps(sorted(name for name in ("nbgrader", "nbformat", "jsonschema") if name in sys.modules)))
"""


def test_the_course_checks_and_the_runner_import_no_nbgrader():
    run = subprocess.run(
        [sys.executable, "-c", WHAT_GRADE_IMPORTS_FIRST], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(run.stdout) == []
