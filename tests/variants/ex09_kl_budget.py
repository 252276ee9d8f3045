"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex09_kl_budget`."""

from gradebook_tools.grading.mistakes.ex09_kl_budget import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
