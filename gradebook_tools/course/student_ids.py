"""Which student ids the course accepts, and why it refuses the others.

A student id becomes a folder name (``submitted/<id>/``, ``feedback/<id>/``),
a value of nbgrader's ``--student`` option, a glob pattern of nbgrader's
``CourseDirectory``, a cell of every CSV export and text in HTML pages. Only
ids that are safe in all of these are accepted: ASCII letters and digits, and
``.``, ``_``, ``-``, ``@``, ``+`` after the first character, at most 128
characters (nbgrader's column). Anything else is refused with the reason.
"""

from __future__ import annotations

import re
import unicodedata

#: The accepted ids.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
MAX_LENGTH = 128

_NAMED = [
    (",", "a comma"),
    ("/", "a slash"),
    ("\\", "a backslash"),
    (" ", "a space"),
    ("<", "markup ('<')"),
    (">", "markup ('>')"),
    ("&", "markup ('&')"),
    ('"', "a quote"),
    ("'", "a quote"),
    ("`", "a backquote"),
    (";", "a semicolon"),
    ("*", "a glob character ('*')"),
    ("?", "a glob character ('?')"),
    ("[", "a glob character ('[')"),
    ("]", "a glob character (']')"),
    ("$", "a dollar sign"),
    ("|", "a pipe"),
    ("%", "a percent sign"),
    (":", "a colon"),
    ("=", "an equals sign"),
    ("#", "a hash"),
]


def student_id_problem(student_id: str) -> str | None:
    """Why ``student_id`` is refused, or None when it is safe.

    Examples
    --------
    >>> student_id_problem("s0001") is None
    True
    >>> student_id_problem("-rf")
    "starts with '-' (nbgrader would read it as an option)"
    """
    if not student_id:
        return "is empty"
    if len(student_id) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    if SAFE_ID.fullmatch(student_id):
        return None
    if any(unicodedata.category(char).startswith("C") for char in student_id):
        return "contains a control character"
    if student_id[0] == "-":
        return "starts with '-' (nbgrader would read it as an option)"
    if student_id[0] in "=+@\t\r":
        return f"starts with {student_id[0]!r} (a spreadsheet would read it as a formula)"
    if student_id[0] == ".":
        return "starts with '.' (a hidden or relative folder)"
    for char, name in _NAMED:
        if char in student_id:
            return f"contains {name}"
    if any(ord(char) > 127 for char in student_id):
        return "contains non-ASCII characters"
    if student_id[0] in "._@+":
        return f"starts with {student_id[0]!r}"
    return "contains characters other than ASCII letters, digits and . _ - @ +"
