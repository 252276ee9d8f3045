"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex05_guardrail_threshold`."""

from gradebook_tools.grading.mistakes.ex05_guardrail_threshold import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
