"""The main job: a fictional class through the whole course, end to end.

Copies the course into a fresh folder, generates the release with
``nbgrader generate_assignment``, submits the work of five fictional students
(complete, partly wrong, blank, partly missing, and one broken file), grades
everything with the batch command (nbgrader's autograde and feedback in the
sandbox) and prints the scores read back from the gradebook.

Example::

    python -m gradebook_tools.cli.demo build/demo-course
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from gradebook_tools.cli.text_tables import render_outcomes
from gradebook_tools.course.cells import grade_id
from gradebook_tools.course.config import load_course_sections
from gradebook_tools.course.nbgrader_run import run_nbgrader
from gradebook_tools.course.submissions import fill_answers, solution_code
from gradebook_tools.engine.grade_course import grade_course
from gradebook_tools.engine.progress import ProgressBar

REPO = Path(__file__).resolve().parents[2]
#: The course's exercises per section, from ``c.CourseSections.sections`` of nbgrader_config.py.
COURSE_SECTIONS = load_course_sections(REPO).sections
#: The exercises of the first section, which one student hands in alone.
FIRST_SECTION = tuple(next(iter(COURSE_SECTIONS.values())))


def complete(release: nbformat.NotebookNode, source: nbformat.NotebookNode, exercise: str) -> nbformat.NotebookNode:
    return fill_answers(release, solution_code(source))


def partly_wrong(release: nbformat.NotebookNode, source: nbformat.NotebookNode, exercise: str) -> nbformat.NotebookNode:
    """Correct but for a lazy first function, an unfinished last one and no answer."""
    answers = solution_code(source)
    functions = [
        cell_id
        for c in release.cells
        if (cell_id := grade_id(c)) is not None and cell_id in answers and cell_id not in ("answer", "explanation")
    ]
    first, last = functions[0], functions[-1]
    answers[first] = f"def {first}(*args, **kwargs):\n    return 0.0  # TODO: the real formula\n"
    del answers[last]
    answers["answer"] = "answer = None  # not computed yet\n"
    answers["explanation"] = "I would watch the validation loss."
    return fill_answers(release, answers)


def blank(release: nbformat.NotebookNode, source: nbformat.NotebookNode, exercise: str) -> nbformat.NotebookNode:
    return release


def first_section_only(
    release: nbformat.NotebookNode, source: nbformat.NotebookNode, exercise: str
) -> nbformat.NotebookNode | None:
    """Hands in the first section (mechanics) only; the rest is missing."""
    return complete(release, source, exercise) if exercise in FIRST_SECTION else None


def broken_first(
    release: nbformat.NotebookNode, source: nbformat.NotebookNode, exercise: str
) -> nbformat.NotebookNode | str:
    """Complete work, but the first exercise's file got corrupted on upload."""
    return "{ this is not a notebook" if exercise == FIRST_SECTION[0] else complete(release, source, exercise)


#: The fictional class: student id -> how they fill in each release.
CLASS = {"ada": complete, "ben": partly_wrong, "cy": blank, "dee": first_section_only, "eve": broken_first}
ROSTER = """student_id,class_section,first_name,last_name,email
ada,lab-a,Ada,Quill,ada@example.edu
ben,lab-a,Ben,Marsh,ben@example.edu
cy,lab-b,Cy,Okafor,cy@example.edu
dee,lab-b,Dee,Lindqvist,dee@example.edu
eve,lab-b,Eve,Moreau,eve@example.edu
"""


def prepare_course(course: Path) -> list[str]:
    """A fresh course folder with the source and config; returns the course's exercise ids, in teaching order."""
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "source", course / "source")
    (course / "roster.csv").write_text(ROSTER)
    return list(load_course_sections(course).section_of())


def nbgrader_or_exit(*args: str, cwd: Path) -> None:
    result = run_nbgrader(*args, cwd=cwd)
    if result.returncode != 0:
        sys.exit(f"nbgrader {' '.join(args)} failed:\n{result.stderr[-4000:]}")


def submit_class(course: Path, exercise: str) -> None:
    read = lambda folder: nbformat.read(course / folder / exercise / f"{exercise}.ipynb", as_version=4)  # noqa: E731
    release, source = read("release"), read("source")
    for student, make in CLASS.items():
        notebook = make(release, source, exercise)
        if notebook is None:
            continue  # this student did not hand in this exercise
        folder = course / "submitted" / student / exercise
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(notebook, str):
            (folder / f"{exercise}.ipynb").write_text(notebook)
        else:
            nbformat.write(notebook, folder / f"{exercise}.ipynb")


def print_scores(course: Path, exercises: list[str]) -> None:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        print(f"\n{'student':<8}" + "".join(f"{e[:4]:>7}" for e in exercises) + f"{'auto':>8}")
        for student in CLASS:
            row, total = [], 0.0
            for exercise in exercises:
                try:
                    submission = gradebook.find_submission(exercise, student)
                except MissingEntry:  # not handed in
                    row.append("    -  ")
                    continue
                row.append(f"{submission.code_score:7.1f}")
                total += submission.code_score
            print(f"{student:<8}" + "".join(row) + f"{total:8.1f}")
    print(f"(automatic points out of {8 * len(exercises)}; '-' = not submitted; explanations await manual grading)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("course", nargs="?", default="build/demo-course", type=Path, help="folder to create")
    course = parser.parse_args(argv).course.resolve()
    exercises = prepare_course(course)
    print(f"course copied to {course}; generating the release and submitting a fictional class", flush=True)
    for exercise in exercises:
        nbgrader_or_exit("generate_assignment", exercise, "--force", cwd=course)
        submit_class(course, exercise)
    started = time.monotonic()
    bar = ProgressBar("grading")
    run = grade_course(course, f"sqlite:///{course / 'gradebook.db'}", exercises, progress=bar.update)
    bar.close()
    print(f"graded {len(CLASS)} students x {len(exercises)} exercises in {time.monotonic() - started:.0f} s")
    print(render_outcomes(run.outcomes))
    print_scores(course, exercises)
    print(f"feedback for each student: {course / 'feedback'} ({len(run.summaries)} summary pages, index.html each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
