"""The hidden checks, one module per notebook id, each with a ``CHECKS`` list."""
from __future__ import annotations

import importlib
import re

from ..spec import Check

_NOTEBOOK_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownNotebook(LookupError):
    """No check module exists for a notebook id."""


def checks_for(notebook_id: str) -> dict[str, Check]:
    """The checks of a notebook, keyed by the ``grade_id`` of their test cell."""
    if not _NOTEBOOK_ID.match(notebook_id):
        raise UnknownNotebook(f"no hidden checks for a notebook named {notebook_id!r}")
    try:
        module = importlib.import_module(f"{__name__}.{notebook_id}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{notebook_id}":
            raise
        raise UnknownNotebook(f"no hidden checks for notebook {notebook_id!r}") from None
    return {check.grade_id: check for check in module.CHECKS}


def answer_check(notebook_id: str, summary: str) -> Check:
    """The check of a notebook's ``answer`` variable against its worked example."""
    from ..reference import ANSWERS
    from ..spec import Case

    return Check("test_answer", "answer", summary, lambda rng: [Case("the value of answer")], ANSWERS[notebook_id])
