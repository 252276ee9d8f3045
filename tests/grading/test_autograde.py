"""Every exercise through the real `nbgrader autograde`, scores read back from the gradebook.

Per exercise, one class of fictional students is graded in one run: the
solution (twice, with different per-student hidden inputs), a blank release,
each catalogued mistake and each correct alternative
(``gradebook_tools/grading/mistakes/<id>.py``), and their feedback pages are
generated. Then one test per student says what it earned and which mistake its
feedback names.
The tests of one exercise share its graded class: under pytest-xdist, run with
``--dist loadgroup`` so that they stay on one worker.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from gradebook_tools.cli import EXIT_OK, main
from gradebook_tools.course.cells import grade_id, is_graded_test_cell
from gradebook_tools.gradebook.items import MistakeCount, count_named_mistakes, named_mistakes_in
from gradebook_tools.gradebook.sections import WHOLE_CLASS
from gradebook_tools.grading.execute import case_seed
from gradebook_tools.grading.mistakes import catalogue, mistake_id
from gradebook_tools.grading.mistakes.diagnose import NamedMistake
from gradebook_tools.grading.verdict import read_mistakes
from tests.grading.test_mistakes import grade_in_process
from tests.support.course import EXERCISES, fill_answers, nbgrader, read_notebook, solution_code
from tests.variants import students_for

pytestmark = pytest.mark.slow

SOLUTION_STUDENTS = ("solution-a", "solution-b")


def per_exercise(students):
    """Parameters ``(exercise, student, ...)`` with readable ids, grouped per exercise for xdist."""
    return [
        pytest.param(exercise, *rest, id="-".join([exercise, *map(str, ids)]), marks=pytest.mark.xdist_group(exercise))
        for exercise in EXERCISES
        for ids, rest in students(exercise)
    ]


SOLUTIONS = per_exercise(lambda exercise: [((student,), (student,)) for student in SOLUTION_STUDENTS])
BLANK = per_exercise(lambda exercise: [((), ())])
WRONG = per_exercise(lambda exercise: [((s, v.function), (s, v)) for s, v, wrong in students_for(exercise) if wrong])
ALTERNATIVES = per_exercise(
    lambda exercise: [((s, v.function), (s, v)) for s, v, wrong in students_for(exercise) if not wrong]
)


@pytest.fixture(scope="module")
def graded(make_course):
    """``graded(exercise)`` → the course with that exercise's class autograded (cached)."""
    cache = {}

    def grade(exercise):
        if exercise not in cache:
            course = make_course([exercise])
            release, solution = course.release(exercise), solution_code(course.source(exercise))
            for student in SOLUTION_STUDENTS:
                course.submit(student, exercise, fill_answers(release, solution))
            course.submit("blank", exercise, release)
            for student, variant, _ in students_for(exercise):
                answers = dict(solution, **{variant.function: variant.code})
                course.submit(student, exercise, fill_answers(release, answers))
            course.autograde(exercise)
            nbgrader("generate_feedback", exercise, "--force", cwd=course.root)
            cache[exercise] = course
        return cache[exercise]

    return grade


@pytest.mark.parametrize("exercise,student", SOLUTIONS)
def test_solution_earns_every_automatic_point(graded, exercise, student):
    course = graded(exercise)
    maximum = course.max_scores(exercise)
    assert sum(maximum.values()) == 8
    assert course.auto_scores(exercise, student) == maximum


@pytest.mark.parametrize("exercise", BLANK)
def test_blank_release_scores_zero(graded, exercise):
    course = graded(exercise)
    assert set(course.auto_scores(exercise, "blank").values()) == {0}


@pytest.mark.parametrize("exercise,student,variant", WRONG)
def test_wrong_implementation_loses_exactly_its_points(graded, exercise, student, variant):
    course = graded(exercise)
    maximum, targets = course.max_scores(exercise), course.targets(exercise)
    lost = set(variant.loses or [cell for cell, target in targets.items() if target == variant.function])
    expected = {cell: 0 if cell in lost else points for cell, points in maximum.items()}
    assert course.auto_scores(exercise, student) == expected, variant.about


@pytest.mark.parametrize("exercise,student,variant", ALTERNATIVES)
def test_correct_alternative_keeps_full_credit(graded, exercise, student, variant):
    course = graded(exercise)
    assert course.auto_scores(exercise, student) == course.max_scores(exercise), variant.about


# ------------------------------------------------ the likely mistake, named in the feedback


def autograded(course, exercise, student):
    return read_notebook(course.root / "autograded" / student / exercise / f"{exercise}.ipynb")


def named_on_page(course, exercise, student) -> list[str]:
    """The text of every element of class ``likely-mistake`` of the student's feedback page."""
    page = (course.root / "feedback" / student / exercise / f"{exercise}.html").read_text()
    return [
        element.get_text(" ", strip=True) for element in BeautifulSoup(page, "html.parser").select(".likely-mistake")
    ]


def catalogue_sentences(exercise) -> set[str]:
    wrong, _ = catalogue(exercise)
    return {"Likely mistake: " + NamedMistake(mistake_id(v, wrong), v.about, v.review).sentence() for v in wrong}


@pytest.mark.parametrize("exercise,student,variant", WRONG)
def test_a_catalogued_mistake_is_named_in_its_feedback(graded, exercise, student, variant):
    course = graded(exercise)
    wrong, _ = catalogue(exercise)
    identifier = mistake_id(variant, wrong)
    targets = course.targets(exercise)
    scores = course.auto_scores(exercise, student)
    for cell in autograded(course, exercise, student).cells:
        if is_graded_test_cell(cell) and targets[grade_id(cell)] == variant.function and scores[grade_id(cell)] == 0:
            assert [m.id for m in read_mistakes(cell)] == [identifier], grade_id(cell)
    named = named_on_page(course, exercise, student)
    sentence = f"Likely mistake: {NamedMistake(identifier, variant.about, variant.review).sentence()}"
    assert sentence in named
    # every note on the page is a sentence of the catalogue: no hidden input, no reference value
    assert set(named) <= catalogue_sentences(exercise)


@pytest.mark.parametrize("exercise,student,variant", ALTERNATIVES)
def test_a_correct_alternative_names_no_mistake(graded, exercise, student, variant):
    course = graded(exercise)
    assert named_on_page(course, exercise, student) == []
    assert named_mistakes_in(course.root / "autograded" / student / exercise / f"{exercise}.ipynb") == {}


@pytest.mark.parametrize("exercise", BLANK)
def test_the_solution_and_a_blank_release_name_no_mistake(graded, exercise):
    course = graded(exercise)
    for student in (*SOLUTION_STUDENTS, "blank"):
        assert named_on_page(course, exercise, student) == [], student


@pytest.mark.parametrize("exercise", BLANK)
def test_the_mistakes_command_prints_the_whole_class_counts(graded, exercise, capsys):
    course = graded(exercise)
    assert main(["mistakes", "--course", str(course.root), "--assignment", exercise]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    named = {
        (student, exercise): named_mistakes_in(course.root / "autograded" / student / exercise / f"{exercise}.ipynb")
        for student, _, _ in students_for(exercise)
    }
    assert lines == [
        f"{c.assignment}\t{c.section}\t{c.students}\t{c.mistake}: {c.about}" for c in count_named_mistakes(named)
    ]
    assert len(lines) >= len(catalogue(exercise)[0])


@pytest.mark.parametrize("exercise", BLANK)
def test_item_analysis_counts_each_named_mistake_per_section(graded, exercise):
    """The counts read from the graded class equal those of grading each student in this process."""
    course = graded(exercise)
    students = [(student, variant) for student, variant, _ in students_for(exercise)]
    section_of = {student: f"section-{number % 2}" for number, (student, _) in enumerate(students)}
    named = {
        (student, exercise): named_mistakes_in(course.root / "autograded" / student / exercise / f"{exercise}.ipynb")
        for student, _ in students
    }
    solution = solution_code(course.source(exercise))
    expected: dict[tuple[str, str], int] = {}
    for student, variant in students:
        results = grade_in_process(
            exercise,
            dict(solution, **{variant.function: variant.code}),
            lambda cell, student=student: case_seed("", exercise, exercise, student, cell),
        )
        for identifier in {i for _, ids in results.values() for i in ids}:
            for group in (WHOLE_CLASS, section_of[student]):
                expected[(identifier, group)] = expected.get((identifier, group), 0) + 1
    counts = count_named_mistakes(named, section_of)
    assert {(c.mistake, c.section): c.students for c in counts} == expected
    assert all(isinstance(c, MistakeCount) and c.assignment == exercise for c in counts)
    wrong, _ = catalogue(exercise)
    whole_class = {c.mistake: c.students for c in counts if c.section == WHOLE_CLASS}
    assert all(whole_class.get(mistake_id(v, wrong), 0) >= 1 for v in wrong)
