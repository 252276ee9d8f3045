"""The hidden checks, one module per notebook id, one decorated function per graded test cell.

See :mod:`gradebook_tools.grading.spec` for how a check is written.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from gradebook_tools.grading.spec import Check

_NOTEBOOK_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownNotebook(LookupError):
    """No check module exists for a notebook id."""


def checks_for(notebook_id: str) -> dict[str, Check]:
    """The checks of a notebook, keyed by the ``grade_id`` of their test cell, in the module's order.

    Raises
    ------
    UnknownNotebook
        When there is no module ``checks/<notebook_id>.py``.
    """
    if not _NOTEBOOK_ID.match(notebook_id):
        raise UnknownNotebook(f"no hidden checks for a notebook named {notebook_id!r}")
    try:
        module = importlib.import_module(f"{__name__}.{notebook_id}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{notebook_id}":
            raise
        raise UnknownNotebook(f"no hidden checks for notebook {notebook_id!r}") from None
    return {value.grade_id: value for value in vars(module).values() if isinstance(value, Check)}


def worked_answer_of(notebook_id: str) -> Any:
    """The value the notebook's ``answer`` must hold, from its worked example.

    Raises
    ------
    UnknownNotebook
        When there is no module ``checks/<notebook_id>.py``.
    KeyError
        When the module has no ``test_answer`` check.
    """
    return checks_for(notebook_id)["test_answer"].reference()
