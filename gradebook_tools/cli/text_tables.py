"""Plain-text tables for the terminal: the per-section table, group statistics, item analysis, outcomes.

The command line prints them; the demo and the benchmarks use them too, so they
live here, in the library, not in :mod:`gradebook_tools.cli.commands`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gradebook_tools.gradebook.sections import OVERALL, SectionTable, Summary

if TYPE_CHECKING:
    from gradebook_tools.engine.coordinator import Outcome
    from gradebook_tools.engine.preview import ScoreChange
    from gradebook_tools.gradebook.items import ItemStats


def format_table(headers: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """Columns padded to their widest cell: the first ``text_columns`` left-aligned, numbers right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        parts = [
            str(cell).ljust(width) if index < text_columns else str(cell).rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule] + [line(row) for row in rows])


def _flags(score) -> str:
    return ("M" if score.missing else " ") + ("P" if score.pending else " ")


def _score_cell(score, percentage: float) -> str:
    shown = "-" if math.isnan(percentage) else f"{percentage:.1f}%"  # nothing released yet
    return f"{score.points:g} {shown:>6} {_flags(score)}"


def render_section_table(table: SectionTable, class_section_of: dict[str, str] | None = None) -> str:
    """The per-section table for the terminal, with a legend for its flags."""
    headers = ["student"] + (["class section"] if class_section_of is not None else [])
    headers += [f"{name} /{table.max_points(name):g}" for name in table.section_names]
    headers.append(
        f"{OVERALL} /{sum(table.max_points(n) for n in table.section_names):g}"
        + (" (weighted)" if table.weights else "")
    )
    rows = []
    for row in table.rows:
        cells = [row.student.id]
        if class_section_of is not None:
            cells.append(class_section_of.get(row.student.id, ""))
        cells += [_score_cell(row.sections[n], row.sections[n].percentage) for n in table.section_names]
        cells.append(_score_cell(row.overall, row.overall_percentage))
        rows.append(cells)
    legend = (
        "M: a missing submission, counted 0.  P: a manual grade is pending "
        "(counted as graded so far; the score may still rise)."
    )
    text_columns = 2 if class_section_of is not None else 1
    scope = f"Totals {table.scope_note}; --whole-term counts every exercise.\n" if table.scope_note else ""
    return format_table(headers, rows, text_columns) + "\n" + scope + legend + "\n" + _pending_and_missing(table)


def _pending_and_missing(table: SectionTable) -> str:
    missing = sum(len(row.overall.missing) for row in table.rows)
    pending = sum(len(row.overall.pending) for row in table.rows)
    open_points = sum(row.overall.pending_points for row in table.rows)
    return (
        f"{len(table.rows)} students; {missing} missing submissions; "
        f"{pending} awaiting a manual grade ({open_points:g} points open)."
    )


def _stat(value: float, spec: str = "5.1f") -> str:
    return "-" if math.isnan(value) else format(value, spec)


def render_group_summaries(summaries: dict[str, dict[str, Summary]], columns: list[str]) -> str:
    """Count, mean, median, sd and range per class section and column, in percent."""
    headers = ["class section", "column", "n", "mean", "median", "sd", "min", "max"]
    rows = []
    for group, by_column in summaries.items():
        for column in columns:
            s = by_column[column]
            rows.append(
                [
                    group if column == columns[0] else "",
                    column,
                    str(s.count),
                    _stat(s.mean),
                    _stat(s.median),
                    _stat(s.sd),
                    _stat(s.minimum),
                    _stat(s.maximum),
                ]
            )
    return format_table(headers, rows, 2) + "\n(percentages; sd is the sample standard deviation)"


def render_items(items: list[ItemStats]) -> str:
    """Item analysis table, weak discriminators flagged."""
    headers = ["item", "max", "n", "mean", "full marks", "D", "pending", ""]
    rows = [
        [
            ("" if item.cell is None else "  ") + item.label,
            f"{item.max_score:g}",
            str(item.count),
            _stat(item.mean, ".2f"),
            _stat(100 * item.full_marks, "5.1f") + "%",
            _stat(item.discrimination, "+.2f"),
            str(item.pending or ""),
            "weak" if item.weak else "",
        ]
        for item in items
    ]
    return (
        format_table(headers, rows)
        + "\nD: upper-lower discrimination index (top 27% minus bottom 27% by course total); "
        "'weak' below 0.2."
    )


def render_outcomes(outcomes: list[Outcome], quiet: bool = False) -> str:
    """One line of counts, then each submission with a problem and its reason."""
    from gradebook_tools.gradebook.outcomes import SubmissionState

    counts = {state: sum(o.state == state for o in outcomes) for state in SubmissionState}
    skipped = sum(o.skipped for o in outcomes)
    lines = [
        ", ".join(f"{count} {state}" for state, count in counts.items())
        + (f" ({skipped} unchanged since the last run, not graded again)" if skipped else "")
    ]
    rows = [[o.assignment, o.student, o.state, o.reason] for o in outcomes if o.reason]
    if rows:
        lines.append(format_table(["assignment", "student", "state", "reason"], rows, 4))
    return "\n".join(lines)


def render_score_changes(changes: list[ScoreChange]) -> str:
    """A dry run's preview: each submission whose score would change, old -> new."""
    if not changes:
        return "dry run: nothing was changed, and grading for real would change no score"

    def shown(score: float | None) -> str:
        return "-" if score is None else f"{score:g}"

    rows = [[c.student, c.assignment, shown(c.old), shown(c.new), f"{c.delta:+g}"] for c in changes]
    return f"dry run: nothing was changed; grading for real would change {len(changes)} score(s):\n" + format_table(
        ["student", "assignment", "now", "would be", "change"], rows, 5
    )
