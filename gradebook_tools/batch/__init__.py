"""Deprecated package: the grading engine is :mod:`gradebook_tools.engine` (see release_feedback.py here)."""
