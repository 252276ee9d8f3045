"""Item analysis: exact means, full-mark shares and discrimination on the hand-built class."""

import math

import pytest

from gradebook_tools.gradebook.items import analyse_items, decided_cells, discrimination_index, pending_cells
from gradebook_tools.gradebook.scores import open_gradebook, read_cell_grades

#: Course totals after late penalties (see conftest_gradebook): ada > cyd > bob > dan.
TOTALS = {"ada": 30.0, "bob": 10.0, "cyd": 14.0, "dan": 4.0}


@pytest.fixture(scope="module")
def items(hand_course):
    engine = open_gradebook(str(hand_course / "gradebook.db"))
    grades = read_cell_grades(engine)
    engine.dispose()
    return {item.label: item for item in analyse_items(grades, TOTALS, ["ex01_a", "ex02_b", "ex04_c"])}


def test_every_exercise_and_graded_cell_is_analysed_in_order(items):
    assert list(items)[:4] == ["ex01_a", "ex01_a/explanation", "ex01_a/test_answer", "ex01_a/test_f"]
    assert len(items) == 3 + 8


def test_cell_mean_full_marks_and_discrimination(items):
    test_f = items["ex01_a/test_f"]  # ada 4, bob 4, cyd 0, dan 0
    assert (test_f.count, test_f.mean, test_f.full_marks) == (4, 2.0, 0.5)
    # groups of round(0.27 * 4) = 1: ada (1.0) minus dan (0.0)
    assert test_f.discrimination == 1.0
    assert test_f.cell_type == "code"


def test_pending_grades_are_left_out_and_counted(items):
    explanation = items["ex01_a/explanation"]  # ada 2, bob pending, cyd 1, dan 1
    assert (explanation.count, explanation.pending) == (3, 1)
    assert explanation.mean == pytest.approx(4 / 3)
    assert explanation.full_marks == pytest.approx(1 / 3)
    assert explanation.discrimination == 0.5  # ada 1.0 minus dan 0.5
    assert explanation.cell_type == "markdown"


def test_exercise_row_sums_its_cells_over_decided_submissions(items):
    exercise = items["ex01_a"]  # ada 10, cyd 5, dan 1 (raw, before late penalty); bob pending
    assert (exercise.count, exercise.pending, exercise.max_score) == (3, 1, 10.0)
    assert exercise.mean == pytest.approx(16 / 3)
    assert exercise.discrimination == pytest.approx(0.9)


def test_a_check_everyone_passes_does_not_discriminate(items):
    test_h = items["ex04_c/test_h"]  # ada 6, bob 6, dan 0: full marks for two of three
    assert test_h.full_marks == pytest.approx(2 / 3)
    answer = items["ex04_c/test_answer"]  # ada 2, bob 0, dan 2
    assert answer.discrimination == 0.0  # ada (top) and dan (bottom) both passed
    assert answer.weak


def test_discrimination_needs_two_students():
    assert math.isnan(discrimination_index({"a": 1.0}, {"a": 1.0}))
    assert not analyse_items([], {}, ["ex01_a"])[0].weak  # undefined D is not called weak


def test_ties_in_the_ranking_are_broken_by_student_id():
    # a and b tie on total; a ranks first, so the upper group is a and the lower b
    assert discrimination_index({"a": 0.0, "b": 1.0}, {"a": 5.0, "b": 5.0}) == -1.0


def test_only_cells_without_pending_grades_are_ranked(items):
    # bob's ex01_a explanation is the one pending grade of the class
    assert [item.label for item in pending_cells(list(items.values()))] == ["ex01_a/explanation"]
    assert [item.label for item in decided_cells(list(items.values()))] == [
        "ex01_a/test_answer",
        "ex01_a/test_f",
        "ex02_b/explanation",
        "ex02_b/test_g",
        "ex04_c/explanation",
        "ex04_c/test_answer",
        "ex04_c/test_h",
    ]
