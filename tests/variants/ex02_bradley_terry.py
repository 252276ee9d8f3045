"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex02_bradley_terry`."""

from gradebook_tools.grading.mistakes.ex02_bradley_terry import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
