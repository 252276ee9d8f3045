"""Rubrics as data (gradebook_tools.gradebook.rubrics) in SQLite and PostgreSQL, through nbgrader's models.

The hand-built class of tests/support/conftest_gradebook.py: the explanation of
ex01_a is graded by hand (2 points); bob's is pending, ada's 2, cyd's and dan's 1.
"""

from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook import rubrics
from gradebook_tools.server import hand_grading
from tests.server.hand_grading_class import quiet
from tests.support.conftest_gradebook import build_hand_class

CELL = ("ex01_a", "ex01_a", "explanation")


def with_comment_rows(url: str) -> None:
    """The explanation cells as solution cells too, with the ``Comment`` rows ``add_submission`` would have made."""
    from nbgrader.api import Comment

    with quiet(), Gradebook(url) as gradebook:
        for assignment in ("ex01_a", "ex02_b", "ex04_c"):
            cell = gradebook.add_solution_cell("explanation", assignment, assignment)
            for submission in gradebook.find_notebook(assignment, assignment).submissions:
                gradebook.db.add(Comment(cell_id=cell.id, notebook_id=submission.id))
        gradebook.db.commit()


def grade_id(gradebook: Gradebook, student: str) -> str:
    return gradebook.find_grade("explanation", "ex01_a", "ex01_a", student).id


def explanation(gradebook: Gradebook, student: str) -> tuple[float | None, str | None, bool]:
    grade = gradebook.find_grade("explanation", "ex01_a", "ex01_a", student)
    comment = gradebook.find_comment("explanation", "ex01_a", "ex01_a", student)
    return grade.manual_score, comment.manual_comment, grade.needs_manual_grade


def exercise_rubric(url: str) -> None:
    """Items made, grades given, an item edited after a preview, comments offered: exact values throughout."""
    with quiet(), Gradebook(url) as gradebook:
        rubrics.create_tables(gradebook.engine)
        session = gradebook.db
        metric = rubrics.add_item(session, *CELL, 1, "Names the metric", "Held-out NLL.")
        block = rubrics.add_item(session, *CELL, "0.5", "Says what blocks", "")
        wrong = rubrics.add_item(session, *CELL, -1, "Wrong claim", "The loss is not the metric.")
        session.commit()
        assert [(i.position, i.points, i.label) for i in rubrics.list_items(session, *CELL)] == [
            (1, 1.0, "Names the metric"),
            (2, 0.5, "Says what blocks"),
            (3, -1.0, "Wrong claim"),
        ]
        with pytest.raises(rubrics.RubricError, match="needs a label"):
            rubrics.add_item(session, *CELL, 1, "  ", "")
        session.rollback()

        assert explanation(gradebook, "bob") == (None, None, True)
        saved = rubrics.save_grade(session, grade_id(gradebook, "bob"), [metric.id, block.id], "Clear.", 0, "ta")
        assert saved == (1.5, "- **Names the metric** (+1): Held-out NLL.\n- **Says what blocks** (+0.5)\n\nClear.")
        assert explanation(gradebook, "bob") == (*saved, False)
        assert gradebook.find_submission("ex01_a", "bob").score == 4 + 0 + 1.5  # nbgrader: before the late penalty
        rubrics.save_grade(session, grade_id(gradebook, "cyd"), [metric.id, wrong.id], "Clear.", 0.25, "ta")
        assert explanation(gradebook, "cyd")[0] == 0.25
        rubrics.save_grade(session, grade_id(gradebook, "dan"), [wrong.id], "", 0, "ta")
        assert explanation(gradebook, "dan")[:2] == (0.0, "- **Wrong claim** (-1): The loss is not the metric.")
        with pytest.raises(rubrics.RubricError, match="do not belong"):
            rubrics.save_grade(session, grade_id(gradebook, "ada"), [metric.id + 1000], "", 0, "ta")
        session.rollback()
        assert rubrics.reusable_comments(session, *CELL) == ["Clear."]

        preview = rubrics.preview_item_edit(session, metric.id, points=2, label="Names the held-out metric")
        assert [(c.student_id, c.old_score, c.new_score, c.comment_changes) for c in preview] == [
            ("bob", 1.5, 2.0, True),  # 2.5 kept within the maximum
            ("cyd", 0.25, 1.25, True),
        ]
        assert explanation(gradebook, "bob")[0] == 1.5  # a preview writes nothing
        applied = rubrics.apply_item_edit(session, metric.id, points=2, label="Names the held-out metric")
        assert applied == preview
        assert explanation(gradebook, "bob")[:2] == (
            2.0,
            "- **Names the held-out metric** (+2): Held-out NLL.\n- **Says what blocks** (+0.5)\n\nClear.",
        )
        assert explanation(gradebook, "cyd")[0] == 1.25
        assert explanation(gradebook, "dan")[0] == 0.0 and explanation(gradebook, "ada")[0] == 2.0

        key = hand_grading.CellKey(*CELL)
        cells = {cell.key: (cell.done, cell.left) for cell in hand_grading.hand_graded_cells(session)}
        assert cells[key] == (4, 0)
        assert cells[hand_grading.CellKey("ex02_b", "ex02_b", "explanation")] == (3, 0)


def test_rubric_in_sqlite(tmp_path):
    build_hand_class(tmp_path)
    with_comment_rows(f"sqlite:///{tmp_path / 'gradebook.db'}")
    exercise_rubric(f"sqlite:///{tmp_path / 'gradebook.db'}")


@pytest.mark.postgres
def test_rubric_in_postgresql(tmp_path, postgres_url):
    build_hand_class(tmp_path, postgres_url)
    with_comment_rows(postgres_url)
    exercise_rubric(postgres_url)
