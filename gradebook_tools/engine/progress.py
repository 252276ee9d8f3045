"""A progress bar with counts and time left, for long grading runs (tqdm)."""

from __future__ import annotations

import sys


class ProgressBar:
    """``update(done, total)`` redraws; the total may only be known once work starts."""

    def __init__(self, label: str):
        from tqdm import tqdm

        self._bar = tqdm(total=0, desc=label, unit="submission", file=sys.stderr, dynamic_ncols=True)

    def update(self, done: int, total: int) -> None:
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()
