"""Instructor tools around the nbgrader gradebook of the alignment course."""
