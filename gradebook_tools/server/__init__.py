"""Jupyter server extensions: the hand-grading view beside the formgrader (issue 19)."""
