"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex08_reviewer_agreement`."""

from gradebook_tools.grading.mistakes.ex08_reviewer_agreement import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
