"""Moved to the course's trusted checks: :mod:`gradebook_tools.grading.mistakes.ex04_attack_success_rate`."""

from gradebook_tools.grading.mistakes.ex04_attack_success_rate import ALTERNATIVES, WRONG

__all__ = ["ALTERNATIVES", "WRONG"]
