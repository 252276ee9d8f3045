"""The class roster: who the students are and which class section (lab or tutorial group) each is in.

A roster is a CSV file with the columns ``student_id`` and ``class_section``, and
optionally ``first_name``, ``last_name``, ``email`` and ``lms_user_id``
(``id``, nbgrader's own name, and ``section``, this course's earlier one, are accepted too).
"Section" alone always means a curriculum section (``c.CourseSections``); a
student's lab or tutorial group is their *class section*.
Problems with single rows (a missing, unsafe or duplicate id, a short row)
become messages naming the line, and the row is reported, never silently
dropped; only a file that cannot be a roster at all raises :class:`RosterError`.

``gradebook-tools roster import`` copies it into the gradebook
(:mod:`gradebook_tools.gradebook.roster_store`), where every command finds it.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from gradebook_tools.course.errors import RosterError
from gradebook_tools.course.student_ids import student_id_problem

REQUIRED_COLUMNS = ("student_id", "class_section")
OPTIONAL_COLUMNS = ("first_name", "last_name", "email", "lms_user_id")
#: Other names of the columns: nbgrader's (``nbgrader db student import``) and the course's earlier ``section``.
COLUMN_ALIASES = {"id": "student_id", "section": "class_section"}

#: Longest name, email or class section (nbgrader's columns hold 128 characters).
MAX_TEXT = 128

#: Class section of gradebook students that the roster does not list.
NOT_ON_ROSTER = "(not on roster)"


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster."""

    student_id: str
    class_section: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""


@dataclass
class Roster:
    """Entries by student id, in file order, and what was wrong with the file."""

    entries: dict[str, RosterEntry] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    @property
    def class_sections(self) -> list[str]:
        """Class sections in sorted order."""
        return sorted({entry.class_section for entry in self.entries.values()})


def read_roster(path: Path | str) -> Roster:
    """Read a roster CSV.

    Parameters
    ----------
    path
        CSV with a header row naming at least ``student_id`` and ``class_section`` (or ``section``).

    Raises
    ------
    RosterError
        When the file cannot be read or the header lacks a required column.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheet exports often start with a BOM
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"cannot read roster {path}: {error}") from error
    return parse_roster(text.splitlines(keepends=True), source=str(path))  # a quoted field may hold a newline


def parse_roster(lines: list[str], source: str = "roster") -> Roster:
    """Parse the lines of a roster CSV (see :func:`read_roster`)."""
    reader = csv.reader(lines)
    header = [name.strip().lower() for name in next(reader, [])]
    header = [COLUMN_ALIASES.get(name, name) if COLUMN_ALIASES.get(name) not in header else name for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise RosterError(
            f"{source}: the header must name the columns {', '.join(REQUIRED_COLUMNS)} "
            f"(missing: {', '.join(missing)}; found: {', '.join(header) or 'nothing'})"
        )
    roster = Roster()
    line_number = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):  # blank lines are layout, not data
            problem = _add_row(roster, header, cells)
            if problem:
                roster.messages.append(f"{source}, line {line_number}: {problem}")
        line_number = reader.line_num + 1  # a quoted field may span lines
    return roster


def _add_row(roster: Roster, header: list[str], cells: list[str]) -> str | None:
    """Add one row to the roster; return what is wrong with it, if anything."""
    if len(cells) > len(header):
        return f"{len(cells)} fields but the header has {len(header)}; row skipped"
    values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
    student_id, section = values["student_id"], values["class_section"]
    if not student_id:
        return "no student_id; row skipped"
    problem = student_id_problem(student_id)
    if problem:
        return f"student id {student_id!r} {problem}; row skipped"
    if not section:
        return f"no section for student {student_id!r}; row skipped"
    for name in ("class_section",) + OPTIONAL_COLUMNS:
        problem = _text_problem(values.get(name, ""))
        if problem:
            return f"{name} of student {student_id!r} {problem}; row skipped"
    if student_id in roster.entries:
        kept = roster.entries[student_id].class_section
        return f"duplicate student {student_id!r}: kept section {kept!r}, ignored {section!r}"
    roster.entries[student_id] = RosterEntry(
        student_id=student_id,
        class_section=section,
        **{name: values.get(name, "") for name in OPTIONAL_COLUMNS},
    )
    return None


def _text_problem(value: str) -> str | None:
    """Why a name, email or class section cannot be stored and shown as it is, if it cannot."""
    if len(value) > MAX_TEXT:
        return f"is longer than {MAX_TEXT} characters"
    if any(unicodedata.category(char).startswith("C") for char in value):
        return "contains a control character"
    return None


def assign_class_sections(roster: Roster, student_ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """Class section of each gradebook student, and messages about mismatches.

    Gradebook students the roster lacks are put in :data:`NOT_ON_ROSTER`;
    roster students the gradebook lacks are named in a message.
    """
    in_gradebook = set(student_ids)
    messages = []
    unknown = [student_id for student_id in roster.entries if student_id not in in_gradebook]
    if unknown:
        messages.append(f"{len(unknown)} roster student(s) not in the gradebook: {', '.join(unknown)}")
    unlisted = [student_id for student_id in student_ids if student_id not in roster.entries]
    if unlisted:
        messages.append(
            f"{len(unlisted)} gradebook student(s) missing from the roster, shown as "
            f"{NOT_ON_ROSTER!r}: {', '.join(unlisted)}"
        )
    sections = {
        student_id: roster.entries[student_id].class_section if student_id in roster.entries else NOT_ON_ROSTER
        for student_id in student_ids
    }
    return sections, messages
