"""PNG plots of the per-section table and the item analysis.

matplotlib is imported inside the functions, and only its object API is used
(``matplotlib.figure.Figure`` draws with Agg, no display and no pyplot state).
"""

from __future__ import annotations

import math
from pathlib import Path

from gradebook_tools.gradebook.items import WEAK_DISCRIMINATION, ItemStats, decided_cells, pending_cells
from gradebook_tools.gradebook.sections import OVERALL, SectionTable

#: Histogram bins of percentages: 0-10, ..., 90-100.
PERCENT_BINS = list(range(0, 101, 10))
#: At most this many items get a label in the item plot (the ones most failed).
LABELLED_ITEMS = 8


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - matplotlib is a dependency
        raise RuntimeError("plots need matplotlib: pip install matplotlib") from error
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def plot_section_distributions(table: SectionTable, path: Path) -> Path:
    """Histogram of the class's percentages for each curriculum section and overall."""
    from matplotlib.ticker import MaxNLocator

    columns = table.section_names + [OVERALL]
    figure = _figure(3.0 * len(columns), 3.0)
    axes = figure.subplots(1, len(columns), sharey=True, squeeze=False)[0]
    for ax, column in zip(axes, columns, strict=True):
        values = [
            row.overall_percentage if column == OVERALL else row.sections[column].percentage for row in table.rows
        ]
        values = [value for value in values if not math.isnan(value)]  # nothing released yet
        ax.hist(values, bins=PERCENT_BINS, color="#4878a8" if column != OVERALL else "#2f4f6f", edgecolor="white")
        ax.set_title(f"{column} (n={len(values)})")
        ax.set_xlim(0, 100)
        ax.set_xlabel("score (%)")
    axes[0].set_ylabel("students")
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))  # no half students
    waiting = [row for row in table.rows if row.overall.pending]
    title = SECTIONS_TITLE
    if waiting:
        points = sum(row.overall.pending_points for row in waiting)
        title += (
            f"\n{_count(len(waiting), 'student')} with {points:g} points awaiting a manual grade, counted as 0 so far"
        )
    figure.suptitle(title)
    return _save(figure, path)


def plot_class_sections(table: SectionTable, class_section_of: dict[str, str], path: Path) -> Path:
    """Box plot with every student as a dot: overall percentage per class section."""
    groups: dict[str, list[float]] = {}
    for row in table.rows:
        groups.setdefault(class_section_of.get(row.student.id, ""), []).append(row.overall_percentage)
    names = sorted(groups)
    figure = _figure(max(4.0, 1.2 * len(names) + 2), 3.6)
    ax = figure.subplots()
    values = [groups[name] for name in names]
    for position, group in enumerate(values, start=1):
        # spread the dots sideways, deterministically, so ties stay visible; fainter in large groups
        offsets = [((i * 0.37) % 1 - 0.5) * 0.3 for i in range(len(group))]
        ax.scatter(
            [position + o for o in offsets],
            group,
            s=10,
            color="#c05030",
            zorder=1,
            alpha=0.6 if len(group) <= 50 else 0.25,
        )
    ax.boxplot(values, showfliers=False, zorder=2, medianprops={"color": "black", "linewidth": 2})
    ax.set_xticks(range(1, len(names) + 1), [f"{name}\n(n={len(groups[name])})" for name in names])
    ax.set_ylim(-2, 102)
    ax.set_ylabel("overall score (%)")
    ax.set_title(CLASS_SECTIONS_TITLE)
    return _save(figure, path)


def _zero_if_undefined(value: float) -> float:
    """An undefined D (fewer than two students) is drawn on the zero line."""
    return 0.0 if math.isnan(value) else value


def _count(number: int, noun: str) -> str:
    """``1 grade``, ``2 grades``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def short_label(item: ItemStats) -> str:
    """``ex04_attack_success_rate/test_answer`` -> ``ex04/test_answer``."""
    return f"{item.assignment.split('_')[0]}/{item.cell}"


def plot_items(items: list[ItemStats], path: Path) -> Path:
    """The most failed graded cells as bars, and every cell's full marks against discrimination.

    Cells with grades still pending are left out (:func:`gradebook_tools.gradebook.items.decided_cells`),
    and the figure's title says how many.
    """
    cells = decided_cells(items)
    pending = pending_cells(items)
    figure = _figure(11.0, 4.8)
    bars, scatter = figure.subplots(1, 2, width_ratios=[1, 1.2])
    colors = {item.label: "#c05030" if item.weak else "#4878a8" for item in cells}

    hardest = sorted(cells, key=lambda item: (item.full_marks, item.label))[:LABELLED_ITEMS][::-1]
    drawn = bars.barh(
        [short_label(item) for item in hardest],
        [100 * item.full_marks for item in hardest],
        color=[colors[item.label] for item in hardest],
    )
    bars.bar_label(drawn, fmt="%.0f%%", padding=3, fontsize=8)
    bars.set_xlim(0, 100)
    bars.set_xlabel("students with full marks (%)")
    bars.set_title(f"The {len(hardest)} most failed graded cells")
    if pending:
        grades = sum(item.pending for item in pending)
        figure.suptitle(
            f"Left out: {_count(len(pending), 'graded cell')} with {_count(grades, 'grade')} awaiting a manual grade",
            fontsize=9,
            color="grey",
        )
    bars.tick_params(axis="y", labelsize=8)

    discrimination = [_zero_if_undefined(item.discrimination) for item in cells]
    scatter.scatter(
        [100 * item.full_marks for item in cells],
        discrimination,
        c=[colors[item.label] for item in cells],
        s=28,
        alpha=0.8,
    )
    scatter.axhline(WEAK_DISCRIMINATION, color="grey", linestyle="--", linewidth=1)
    scatter.text(1, WEAK_DISCRIMINATION - 0.07, f"weak below D = {WEAK_DISCRIMINATION} (red)", fontsize=8, color="grey")
    scatter.set_xlim(-3, 103)
    scatter.set_ylim(min([-0.1] + [d - 0.05 for d in discrimination]), 1.05)
    scatter.set_xlabel("students with full marks (%)")
    scatter.set_ylabel("discrimination index D")
    scatter.set_title("Every graded cell with all grades decided")
    return _save(figure, path)


# ---------------------------------------------------------------- text alternatives (WCAG 1.1.1)

#: The plots' titles, as the report shows them (and keys of :func:`plot_descriptions`).
SECTIONS_TITLE = "Score distribution per curriculum section"
CLASS_SECTIONS_TITLE = "Overall score per class section"
ITEMS_TITLE = "Item analysis of the graded cells"


def bin_labels() -> list[str]:
    """``0–10``, ..., ``90–100``: the histogram bins of :func:`plot_section_distributions`."""
    return [f"{low}–{high}" for low, high in zip(PERCENT_BINS, PERCENT_BINS[1:], strict=False)]


def section_histogram(table: SectionTable) -> dict[str, list[int]]:
    """Students per bin of percentage, per section and overall: the values the histograms draw.

    The bins are matplotlib's (and numpy's): ``[0, 10)``, ..., ``[90, 100]``; undefined percentages are left out.
    """
    import numpy as np

    counts = {}
    for column in table.section_names + [OVERALL]:
        values = [
            row.overall_percentage if column == OVERALL else row.sections[column].percentage for row in table.rows
        ]
        values = [value for value in values if not math.isnan(value)]
        counts[column] = [int(count) for count in np.histogram(values, bins=PERCENT_BINS)[0]]
    return counts


def _percent(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{value:.0f}%"


def plot_descriptions(
    table: SectionTable, items: list[ItemStats], class_section_of: dict[str, str] | None
) -> dict[str, str]:
    """A text alternative of each plot: what it shows and its values (or where the values are)."""
    import statistics

    histogram = section_histogram(table)
    described = {
        SECTIONS_TITLE: (
            "Histograms of the students' percentage per curriculum section and overall, in bins of 10 points. "
            + "; ".join(
                f"{column}: {sum(counts)} students"
                + (f", most in {bin_labels()[counts.index(max(counts))]}%" if sum(counts) else "")
                for column, counts in histogram.items()
            )
            + ". Every bin's count is in the table 'Students per score band' below."
        )
    }
    if class_section_of is not None:
        groups: dict[str, list[float]] = {}
        for row in table.rows:
            if not math.isnan(row.overall_percentage):
                groups.setdefault(class_section_of.get(row.student.id, ""), []).append(row.overall_percentage)
        described[CLASS_SECTIONS_TITLE] = (
            "Box plots of the overall percentage per class section, each student a dot. "
            + "; ".join(
                f"{name or 'no section'}: {len(values)} students, median {_percent(statistics.median(values))}, "
                f"from {_percent(min(values))} to {_percent(max(values))}"
                for name, values in sorted(groups.items())
            )
            + "."
        )
    cells = decided_cells(items)
    hardest = sorted(cells, key=lambda item: (item.full_marks, item.label))[:LABELLED_ITEMS]
    described[ITEMS_TITLE] = (
        f"Left: bars of the {len(hardest)} most failed graded cells and the share of students with full marks: "
        + ", ".join(f"{short_label(item)} {100 * item.full_marks:.0f}%" for item in hardest)
        + ". Right: every graded cell's share of full marks against its discrimination index D "
        f"(weak below {WEAK_DISCRIMINATION}, drawn red); each cell's values are in the table "
        "'Every exercise and graded cell' below."
    )
    return described
