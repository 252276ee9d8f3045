"""Trusted grading: every autograded point is decided in the grader process.

Student code runs in its own kernel; only plain data (numbers, lists, bools,
strings) crosses from that kernel to the grader, which compares it with the
reference computations in :mod:`gradebook_tools.grading.reference`.
"""
