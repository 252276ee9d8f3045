"""Write the per-section table as CSV, as a Canvas gradebook import, and as JSON;
and plug the per-section CSV into ``nbgrader export``.

With ``c.ExportApp.plugin_class = "gradebook_tools.exports.SectionCsvExportPlugin"``
in ``nbgrader_config.py``, ``nbgrader export`` writes nbgrader's own CSV to
``grades.csv`` (or ``--to``) exactly as before, and the per-section CSV next to
it (``grades_sections.csv``). The plugin lives in :mod:`gradebook_tools.exports.nbgrader_plugin`
(it extends nbgrader's, which imports all of nbgrader) and is found here by name.

Every CSV cell that comes from data (ids, names, emails, class sections, the
status text) goes through :func:`spreadsheet_safe`: a spreadsheet never reads it
as a formula (OWASP's CSV injection rule). Numbers the tools compute stay numbers.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from gradebook_tools.gradebook.sections import OVERALL, SectionScore, SectionTable, Summary

if TYPE_CHECKING:
    from gradebook_tools.gradebook.items import ItemStats

#: First characters that make a spreadsheet read a cell as a formula (OWASP: = + - @, tab, carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: str) -> str:
    """A data cell for CSV that no spreadsheet evaluates: ``'`` before a formula's first character.

    A plain number (``-3``, ``+1.5``) is no formula and stays as it is.

    Examples
    --------
    >>> spreadsheet_safe("=1+1")
    "'=1+1"
    >>> spreadsheet_safe("-2.5"), spreadsheet_safe("Ada")
    ('-2.5', 'Ada')
    """
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


#: First columns of a Canvas gradebook import; Canvas matches students on
#: ``SIS User ID`` when ``ID`` (Canvas' own number) is empty.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _number(value: float) -> str:
    """Points and percentages as short text: 7.5, 10, 66.6667; empty where undefined."""
    return "" if math.isnan(value) else f"{round(value, 4):g}"


def _status_text(score: SectionScore) -> str:
    parts = []
    if score.missing:
        parts.append("missing: " + " ".join(score.missing))
    if score.pending:
        parts.append("pending: " + " ".join(score.pending))
    return "; ".join(parts)


def section_rows(table: SectionTable, class_section_of: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The per-section table as flat rows of text, one per student.

    Columns: ``student_id``, names, ``email``, ``class_section`` (with a
    roster), then for each curriculum section and ``overall``: ``_points``,
    ``_max``, ``_percent`` and ``_status`` (missing and pending assignments).
    """
    rows = []
    for row in table.rows:
        student = row.student
        safe = spreadsheet_safe
        flat = {
            "student_id": safe(student.id),
            "last_name": safe(student.last_name),
            "first_name": safe(student.first_name),
            "email": safe(student.email),
        }
        if class_section_of is not None:
            flat["class_section"] = safe(class_section_of.get(student.id, ""))
        for name in table.section_names:
            flat.update(_score_columns(name, row.sections[name], row.sections[name].percentage))
        flat.update(_score_columns(OVERALL, row.overall, row.overall_percentage))
        rows.append(flat)
    return rows


def _score_columns(prefix: str, score: SectionScore, percentage: float) -> dict[str, str]:
    return {
        f"{prefix}_points": _number(score.points),
        f"{prefix}_max": _number(score.max_points),
        f"{prefix}_percent": _number(percentage),
        f"{prefix}_status": spreadsheet_safe(_status_text(score)),
    }


def write_section_csv(table: SectionTable, out: IO[str], class_section_of: dict[str, str] | None = None) -> None:
    """Write :func:`section_rows` as CSV (RFC 4180) with a header row.

    The header's section names come from the configuration and are neutralized too.
    """
    rows = section_rows(table, class_section_of)
    if not rows:
        return
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(name) for name in rows[0]])
    writer.writerows(row.values() for row in rows)


def write_canvas_csv(table: SectionTable, out: IO[str], class_section_of: dict[str, str] | None = None) -> None:
    """Write a gradebook CSV that Canvas imports: one column of points per curriculum section.

    The second row, ``Points Possible``, gives each column's maximum, as in a
    Canvas gradebook export. Import it under Grades > Import; Canvas matches
    students on ``SIS User ID`` (the nbgrader student id).
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CANVAS_COLUMNS + [spreadsheet_safe(name) for name in table.section_names])
    writer.writerow(
        ["Points Possible", "", "", "", ""] + [_number(table.max_points(name)) for name in table.section_names]
    )
    for row in table.rows:
        student = row.student
        writer.writerow(
            [
                spreadsheet_safe(text)
                for text in (
                    student.display_name,
                    "",
                    student.id,
                    student.email or student.id,
                    (class_section_of or {}).get(student.id, ""),
                )
            ]
            + [_number(row.sections[name].points) for name in table.section_names]
        )


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined statistic is null."""
    return None if math.isnan(value) else value


def _score_json(score: SectionScore, percentage: float) -> dict[str, Any]:
    return {
        "points": score.points,
        "max": score.max_points,
        "percent": _finite(percentage),
        "missing": list(score.missing),
        "pending": list(score.pending),
        "pending_points": score.pending_points,
    }


def table_json(
    table: SectionTable,
    class_section_of: dict[str, str] | None = None,
    summaries: dict[str, dict[str, Summary]] | None = None,
    items: list[ItemStats] | None = None,
) -> dict[str, Any]:
    """The per-section table (and, if given, summaries and item analysis) as JSON-ready data."""
    data: dict[str, Any] = {
        "sections": table.assignments_by_section,
        "weights": table.weights,
        "not_in_gradebook": table.not_in_gradebook,
        "students": [
            {
                "student_id": row.student.id,
                "first_name": row.student.first_name,
                "last_name": row.student.last_name,
                "email": row.student.email,
                "class_section": (class_section_of or {}).get(row.student.id),
                "sections": {name: _score_json(score, score.percentage) for name, score in row.sections.items()},
                OVERALL: _score_json(row.overall, row.overall_percentage),
            }
            for row in table.rows
        ],
    }
    if summaries is not None:
        data["summaries"] = {
            group: {
                column: {
                    key: _finite(value) if isinstance(value, float) else value for key, value in vars(summary).items()
                }
                for column, summary in columns.items()
            }
            for group, columns in summaries.items()
        }
    if items is not None:
        data["items"] = [
            {
                "assignment": item.assignment,
                "cell": item.cell,
                "cell_type": item.cell_type,
                "max_score": item.max_score,
                "count": item.count,
                "mean": _finite(item.mean),
                "full_marks": _finite(item.full_marks),
                "discrimination": _finite(item.discrimination),
                "pending": item.pending,
            }
            for item in items
        ]
    return data


def write_json(data: dict[str, Any], out: IO[str]) -> None:
    json.dump(data, out, indent=2, default=str)
    out.write("\n")


def sections_path_for(grades_path: str) -> str:
    """``grades.csv`` -> ``grades_sections.csv``, next to nbgrader's own CSV."""
    path = Path(grades_path)
    return str(path.with_name(f"{path.stem}_sections{path.suffix or '.csv'}"))
