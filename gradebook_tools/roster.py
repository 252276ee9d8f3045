"""The class roster: which class section (lab or tutorial group) each student is in.

A roster is a CSV file with the columns ``student_id`` and ``section``, and
optionally ``first_name``, ``last_name`` and ``email``. Problems with single rows
(a missing id, a duplicate id, a short row) become messages and the row is
reported, never silently dropped; only a file that cannot be a roster at all
raises :class:`RosterError`.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_COLUMNS = ("student_id", "section")
OPTIONAL_COLUMNS = ("first_name", "last_name", "email")

#: Class section of gradebook students that the roster does not list.
NOT_ON_ROSTER = "(not on roster)"


class RosterError(Exception):
    """The roster file is missing, unreadable, or lacks its required columns."""


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster."""

    student_id: str
    section: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""


@dataclass
class Roster:
    """Entries by student id, in file order, and what was wrong with the file."""

    entries: dict[str, RosterEntry] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    @property
    def class_sections(self) -> list[str]:
        """Class sections in sorted order."""
        return sorted({entry.section for entry in self.entries.values()})


def read_roster(path: Path | str) -> Roster:
    """Read a roster CSV.

    Parameters
    ----------
    path
        CSV with a header row naming at least ``student_id`` and ``section``.

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
    return parse_roster(text.splitlines(), source=str(path))


def parse_roster(lines: list[str], source: str = "roster") -> Roster:
    """Parse the lines of a roster CSV (see :func:`read_roster`)."""
    reader = csv.reader(lines)
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise RosterError(
            f"{source}: the header must name the columns {', '.join(REQUIRED_COLUMNS)} "
            f"(missing: {', '.join(missing)}; found: {', '.join(header) or 'nothing'})"
        )
    roster = Roster()
    for line_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are layout, not data
        problem = _add_row(roster, header, cells)
        if problem:
            roster.messages.append(f"{source}, line {line_number}: {problem}")
    return roster


def _add_row(roster: Roster, header: list[str], cells: list[str]) -> str | None:
    """Add one row to the roster; return what is wrong with it, if anything."""
    if len(cells) > len(header):
        return f"{len(cells)} fields but the header has {len(header)}; row skipped"
    values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
    student_id, section = values["student_id"], values["section"]
    if not student_id:
        return "no student_id; row skipped"
    if not section:
        return f"no section for student {student_id!r}; row skipped"
    if student_id in roster.entries:
        kept = roster.entries[student_id].section
        return f"duplicate student {student_id!r}: kept section {kept!r}, ignored {section!r}"
    roster.entries[student_id] = RosterEntry(
        student_id=student_id,
        section=section,
        **{name: values.get(name, "") for name in OPTIONAL_COLUMNS},
    )
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
        messages.append(
            f"{len(unknown)} roster student(s) not in the gradebook (not shown): {', '.join(unknown)}"
        )
    unlisted = [student_id for student_id in student_ids if student_id not in roster.entries]
    if unlisted:
        messages.append(
            f"{len(unlisted)} gradebook student(s) missing from the roster, shown as "
            f"{NOT_ON_ROSTER!r}: {', '.join(unlisted)}"
        )
    sections = {
        student_id: roster.entries[student_id].section if student_id in roster.entries else NOT_ON_ROSTER
        for student_id in student_ids
    }
    return sections, messages
