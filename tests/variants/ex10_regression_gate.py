"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex10_regression_gate`."""

from gradebook_tools.grading.mistakes.ex10_regression_gate import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
