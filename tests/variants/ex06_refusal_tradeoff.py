"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex06_refusal_tradeoff`."""

from gradebook_tools.grading.mistakes.ex06_refusal_tradeoff import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
