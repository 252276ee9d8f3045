"""The errors the command line turns into exit codes, in a module that imports nothing.

Each library module re-exports its own (``scores.GradebookError``,
``sections.UnknownNameError``, ``roster.RosterError``), so ``gradebook-tools
--help`` can map errors to exit codes without importing the library.
"""


class GradebookError(Exception):
    """The gradebook cannot be opened: missing, unreadable, or not nbgrader's."""


class UnknownNameError(LookupError):
    """An assignment, student or section that the gradebook or configuration does not know."""


class RosterError(Exception):
    """The roster file is missing, unreadable, or lacks its required columns."""


class EmptyClassError(Exception):
    """Nothing to report: no students or no assignments in the gradebook."""


class CourseProblem(RuntimeError):
    """The course's set-up, not the submission, stopped grading; the message names the fix.

    Here, importing nothing, so that ``gradebook-tools grade`` checks the course
    before it imports nbgrader (its workers import nbgrader meanwhile).
    """
