"""Per curriculum section scores: exact numbers on the hand-built class."""

import math

import pytest
from traitlets.config import Config

from gradebook_tools.course.config import CourseSections, load_course_sections
from gradebook_tools.gradebook.scores import open_gradebook, read_class_scores
from gradebook_tools.gradebook.sections import (
    OVERALL,
    UNSECTIONED,
    UnknownNameError,
    group_summaries,
    only_section,
    section_table,
)
from tests.support.conftest_gradebook import SECTIONS


@pytest.fixture(scope="module")
def scores(hand_course):
    engine = open_gradebook(str(hand_course / "gradebook.db"))
    yield read_class_scores(engine)
    engine.dispose()


def test_sections_are_read_from_nbgrader_config(hand_course):
    assert load_course_sections(hand_course).sections == SECTIONS


def test_submission_score_is_raw_minus_late_penalty_never_below_zero(scores):
    bob = scores.submission("bob", "ex01_a")
    assert (bob.raw_score, bob.late_penalty, bob.score) == (4.0, 1.0, 3.0)
    dan = scores.submission("dan", "ex01_a")
    assert (dan.raw_score, dan.late_penalty, dan.score) == (1.0, 2.0, 0.0)
    assert scores.submission("bob", "ex02_b") is None


def test_pending_manual_grade_is_counted_with_its_open_points(scores):
    bob = scores.submission("bob", "ex01_a")
    assert (bob.pending_cells, bob.pending_points) == (1, 2.0)
    assert not scores.submission("ada", "ex01_a").is_pending


def test_assignment_maximum_sums_its_graded_cells(scores):
    assert [(a.name, a.max_score) for a in scores.assignments] == [("ex01_a", 10.0), ("ex02_b", 10.0), ("ex04_c", 10.0)]


@pytest.mark.parametrize(
    "student, mechanics, theory, overall",
    [
        ("ada", (20.0, 100.0), (10.0, 100.0), (30.0, 100.0)),
        ("bob", (3.0, 15.0), (7.0, 70.0), (10.0, 100 / 3)),
        ("cyd", (14.0, 70.0), (0.0, 0.0), (14.0, 140 / 3)),
        ("dan", (0.0, 0.0), (4.0, 40.0), (4.0, 40 / 3)),
    ],
)
def test_points_and_percentages_per_section(scores, student, mechanics, theory, overall):
    row = section_table(scores, load_course_sections_for_test()).row(student)
    assert (row.sections["mechanics"].points, row.sections["mechanics"].percentage) == mechanics
    assert (row.sections["theory"].points, row.sections["theory"].percentage) == theory
    assert (row.overall.points, row.overall_percentage) == pytest.approx(overall)
    assert row.sections["mechanics"].max_points == 20.0
    assert row.sections["theory"].max_points == 10.0  # ex05_absent is not in the gradebook


def load_course_sections_for_test(weights=None):
    return CourseSections(config=Config({"CourseSections": {"sections": SECTIONS, "weights": weights or {}}}))


def test_missing_and_pending_are_shown_not_hidden(scores):
    table = section_table(scores, load_course_sections_for_test())
    bob = table.row("bob")
    assert bob.sections["mechanics"].missing == ("ex02_b",)
    assert bob.sections["mechanics"].pending == ("ex01_a",)
    assert bob.sections["mechanics"].status == "pending"
    assert bob.sections["theory"].status == ""
    assert table.row("cyd").sections["theory"].status == "missing"
    assert table.not_in_gradebook == ["ex05_absent"]


def test_weights_give_a_weighted_overall_percentage(scores):
    table = section_table(scores, load_course_sections_for_test({"mechanics": 1.0, "theory": 3.0}))
    assert table.row("bob").overall_percentage == pytest.approx((15.0 + 3 * 70.0) / 4)
    assert table.row("bob").overall.points == 10.0  # points stay unweighted


def test_assignments_in_no_section_go_to_other_so_sections_add_up(scores):
    course = CourseSections(config=Config({"CourseSections": {"sections": {"mechanics": ["ex01_a"]}}}))
    table = section_table(scores, course)
    assert table.section_names == ["mechanics", UNSECTIONED]
    assert table.assignments_by_section[UNSECTIONED] == ["ex02_b", "ex04_c"]
    for row in table.rows:
        assert sum(score.points for score in row.sections.values()) == row.overall.points


def test_only_section_and_unknown_names(scores):
    table = section_table(scores, load_course_sections_for_test())
    theory = only_section(table, "theory")
    assert theory.section_names == ["theory"]
    assert theory.row("bob").overall_percentage == 70.0
    with pytest.raises(UnknownNameError, match="unknown section 'nope'; sections: mechanics, theory"):
        only_section(table, "nope")
    with pytest.raises(UnknownNameError, match="unknown student"):
        section_table(scores, load_course_sections_for_test(), ["ada", "eve"])


def test_group_summaries_by_class_section(scores):
    table = section_table(scores, load_course_sections_for_test())
    summaries = group_summaries(table, {"ada": "lab-A", "bob": "lab-A", "cyd": "lab-B", "dan": "lab-C"})
    assert list(summaries) == ["lab-A", "lab-B", "lab-C", "all students"]
    lab_a = summaries["lab-A"][OVERALL]
    assert (lab_a.count, lab_a.mean, lab_a.median) == (2, pytest.approx(200 / 3), pytest.approx(200 / 3))
    assert lab_a.sd == pytest.approx(math.sqrt(2) * (100 - 100 / 3) / 2)
    assert (lab_a.minimum, lab_a.maximum) == (pytest.approx(100 / 3), 100.0)
    assert summaries["lab-A"]["mechanics"].mean == (100.0 + 15.0) / 2
    assert math.isnan(summaries["lab-B"][OVERALL].sd)  # one student: no spread
    assert summaries["all students"]["theory"].median == (40.0 + 70.0) / 2


def test_config_problems_are_described():
    course = CourseSections(
        config=Config({"CourseSections": {"sections": {"a": ["x"], "b": ["x", "y"]}, "weights": {"a": 1.0, "c": -1.0}}})
    )
    assert course.problems() == [
        "assignment 'x' is in both sections 'a' and 'b'",
        "weight given for unknown section 'c'",
        "weight of section 'c' is negative (-1.0)",
        "sections without a weight: b",
    ]


def test_task_cells_count_like_nbgrader(tmp_path):
    """A task cell (graded by hand, no answer cell) adds to the maximum and the score."""
    from tests.support.gradebook_factory import add_assignment, add_graded_submission, new_gradebook

    with new_gradebook(tmp_path) as gradebook:
        gradebook.add_student("ada")
        add_assignment(gradebook, "ex01_a", [("test_f", 4, "code")])
        gradebook.add_task_cell("task_plot", "ex01_a", "ex01_a", max_score=3, cell_type="markdown")
        add_graded_submission(gradebook, "ex01_a", "ada", {"test_f": 4, "task_plot": 2.5})
        nbgrader_view = gradebook.find_submission("ex01_a", "ada")
        expected = (nbgrader_view.max_score, nbgrader_view.score)
    engine = open_gradebook(str(tmp_path / "gradebook.db"))
    scores = read_class_scores(engine)
    engine.dispose()
    assert (scores.assignments[0].max_score, scores.submission("ada", "ex01_a").score) == expected == (7.0, 6.5)


def test_a_section_with_nothing_released_yet_has_no_percentage_and_no_weight(scores):
    course = CourseSections(
        config=Config(
            {
                "CourseSections": {
                    "sections": {"mechanics": ["ex01_a", "ex02_b"], "theory": ["ex04_c"], "workflows": ["ex09_absent"]},
                    "weights": {"mechanics": 1.0, "theory": 1.0, "workflows": 2.0},
                }
            }
        )
    )
    table = section_table(scores, course)
    bob = table.row("bob")
    assert math.isnan(bob.sections["workflows"].percentage)
    assert bob.overall_percentage == (15.0 + 70.0) / 2  # not dragged down by an unreleased section
    assert group_summaries(table, {})["all students"]["workflows"].count == 0
