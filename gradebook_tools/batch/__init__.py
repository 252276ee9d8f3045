"""Batch grading: autograde and feedback for everything submitted, with a recorded outcome per submission."""
