"""The instructor's report: one self-contained HTML page, plus the plots as PNG files.

The page embeds its plots (as ``data:`` URIs) and its style, so it can be mailed
or archived as one file; the PNGs are written next to it for slides and notes.
"""

from __future__ import annotations

import base64
import datetime
import math
from dataclasses import dataclass
from pathlib import Path

from gradebook_tools.gradebook.items import WEAK_DISCRIMINATION, ItemStats, decided_cells, pending_cells
from gradebook_tools.gradebook.roster import NOT_ON_ROSTER
from gradebook_tools.gradebook.sections import OVERALL, WHOLE_CLASS, SectionTable, group_summaries

TEMPLATE = "report.html.j2"
#: How many of the most failed graded cells the report lists first.
MOST_FAILED = 10


@dataclass(frozen=True)
class WrittenReport:
    """Where the report and its plots were written."""

    html: Path
    plots: list[Path]


def _number(value: float, spec: str = "g") -> str:
    """A statistic as text; an undefined one (NaN) as a dash."""
    return "–" if math.isnan(value) else format(value, spec)


def _percent(value: float) -> str:
    """A percentage with one decimal and its sign; a dash where undefined."""
    return "–" if math.isnan(value) else f"{value:.1f}%"


def _band(percentage: float) -> str:
    """CSS class of a percentage cell: its colour band, by 20 points."""
    if math.isnan(percentage):
        return "band-none"
    return f"band-{min(4, int(percentage // 20))}"


def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(number=_number, percent=_percent, band=_band)
    return environment


def _data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def render_report(
    table: SectionTable,
    items: list[ItemStats],
    plots: dict[str, Path],
    class_section_of: dict[str, str] | None = None,
    generated: datetime.datetime | None = None,
) -> str:
    """The report page as HTML text.

    Parameters
    ----------
    table
        The per-section table.
    items
        The item analysis (:func:`gradebook_tools.gradebook.items.analyse_items`).
    plots
        Plot title -> PNG file, embedded in this order.
    class_section_of
        Student id -> class section, from a roster; None without a roster.
    generated
        Time stamp shown on the page (now by default).
    """
    from gradebook_tools.pages.plots import bin_labels, plot_descriptions, section_histogram

    summaries = group_summaries(table, class_section_of or {})
    descriptions = plot_descriptions(table, items, class_section_of)
    if class_section_of is None:
        summaries = {WHOLE_CLASS: summaries[WHOLE_CLASS]}
    cells = decided_cells(items)
    pending = pending_cells(items)
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            table=table,
            columns=table.section_names + [OVERALL],
            total_max=sum(table.max_points(name) for name in table.section_names),
            summaries=summaries,
            class_section_of=class_section_of,
            not_on_roster=NOT_ON_ROSTER,
            items=items,
            most_failed=sorted(cells, key=lambda item: (item.full_marks, item.label))[:MOST_FAILED],
            pending_cells=pending,
            pending_grades=sum(item.pending for item in pending),
            weak_threshold=WEAK_DISCRIMINATION,
            # each plot with a text alternative that gives its values (WCAG 1.1.1), and the histogram as a table
            figures=[
                {"title": title, "uri": _data_uri(path), "alt": descriptions.get(title, title)}
                for title, path in plots.items()
            ],
            histogram=section_histogram(table),
            bins=bin_labels(),
            missing_count=sum(len(row.overall.missing) for row in table.rows),
            pending_count=sum(len(row.overall.pending) for row in table.rows),
            pending_points=sum(row.overall.pending_points for row in table.rows),
            generated=(generated or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M"),
        )
    )


def write_plots(
    folder: Path, stem: str, table: SectionTable, items: list[ItemStats], class_section_of: dict[str, str] | None
) -> dict[str, Path]:
    """Draw the report's plots into ``folder`` as ``<stem>_*.png``."""
    from gradebook_tools.pages import plots

    written = {plots.SECTIONS_TITLE: plots.plot_section_distributions(table, folder / f"{stem}_sections.png")}
    if class_section_of is not None:
        written[plots.CLASS_SECTIONS_TITLE] = plots.plot_class_sections(
            table, class_section_of, folder / f"{stem}_class_sections.png"
        )
    written[plots.ITEMS_TITLE] = plots.plot_items(items, folder / f"{stem}_items.png")
    return written


def write_report(
    path: Path | str, table: SectionTable, items: list[ItemStats], class_section_of: dict[str, str] | None = None
) -> WrittenReport:
    """Write the HTML report to ``path`` and its plots next to it.

    Returns
    -------
    WrittenReport
        The HTML file and the PNG files, as written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plots = write_plots(path.parent, path.stem, table, items, class_section_of)
    path.write_text(render_report(table, items, plots, class_section_of), encoding="utf-8")
    return WrittenReport(html=path, plots=list(plots.values()))
