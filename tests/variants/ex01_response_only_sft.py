"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex01_response_only_sft`."""

from gradebook_tools.grading.mistakes.ex01_response_only_sft import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
