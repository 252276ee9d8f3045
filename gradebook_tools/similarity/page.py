"""The similarity report as one self-contained HTML page: ranked pairs, then each pair side by side.

Every student id and every line of code is data: the template escapes all of
it (Jinja autoescape; matching regions become ``<mark>`` around escaped text).
The page loads nothing (a Content-Security-Policy forbids scripts and any
fetch), so it works offline; it has landmarks, one ``h1`` and ordered headings,
a skip link, focusable code panes and colours of at least 4.5:1 contrast.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from gradebook_tools.similarity.matching import Match, Region
from gradebook_tools.similarity.report import SimilarityReport

TEMPLATE = "similarity.html.j2"
#: Pairs shown side by side (the ranked table lists them all up to ``top``).
DEFAULT_TOP = 100


@dataclass(frozen=True)
class Segment:
    """A stretch of one author's code, inside a matching region or not."""

    text: str
    matching: bool


def segments(code: str, regions: tuple[Region, ...]) -> list[Segment]:
    """``code`` cut at the matching ``regions`` (clipped to the code, overlaps merged)."""
    cuts: list[tuple[int, int]] = []
    for region in sorted(regions, key=lambda r: (r.start, r.end)):
        start, end = max(0, min(region.start, len(code))), max(0, min(region.end, len(code)))
        if end <= start:
            continue
        if cuts and start <= cuts[-1][1]:
            cuts[-1] = (cuts[-1][0], max(cuts[-1][1], end))
        else:
            cuts.append((start, end))
    parts, position = [], 0
    for start, end in cuts:
        if start > position:
            parts.append(Segment(code[position:start], False))
        parts.append(Segment(code[start:end], True))
        position = end
    if position < len(code):
        parts.append(Segment(code[position:], False))
    return parts


def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(report: SimilarityReport, top: int = DEFAULT_TOP, generated: datetime.datetime | None = None) -> str:
    """The report's HTML text, listing the ``top`` most similar pairs."""
    shown: list[Match] = report.matches[:top]
    pairs = [
        {
            "rank": rank,
            "anchor": f"pair-{rank}",
            "match": match,
            "review": report.review(match),
            "left": segments(report.submissions[match.a].code, match.regions_a),
            "right": segments(report.submissions[match.b].code, match.regions_b),
        }
        for rank, match in enumerate(shown, start=1)
    ]
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            report=report,
            pairs=pairs,
            total=len(report.matches),
            authors=len(report.submissions),
            generated=(generated or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M"),
        )
    )


def write_page(report: SimilarityReport, path: Path, top: int = DEFAULT_TOP) -> Path:
    """Write the page to ``path`` (its folder is made) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(report, top), encoding="utf-8")
    return path
