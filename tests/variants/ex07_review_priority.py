"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex07_review_priority`."""

from gradebook_tools.grading.mistakes.ex07_review_priority import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
