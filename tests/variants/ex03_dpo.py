"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex03_dpo`."""

from gradebook_tools.grading.mistakes.ex03_dpo import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
