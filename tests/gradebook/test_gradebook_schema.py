"""The tools' description of nbgrader's tables matches nbgrader's own models, column by column."""

import pytest
from nbgrader import api
from sqlalchemy import select

from gradebook_tools.gradebook import schema
from gradebook_tools.gradebook.scores import open_gradebook
from tests.support.conftest_gradebook import build_hand_class

MIRRORS = [
    schema.ASSIGNMENT,
    schema.NOTEBOOK,
    schema.BASE_CELL,
    schema.GRADE_CELLS,
    schema.TASK_CELLS,
    schema.STUDENT,
    schema.SUBMITTED_ASSIGNMENT,
    schema.SUBMITTED_NOTEBOOK,
    schema.GRADE,
]


@pytest.mark.parametrize("table", MIRRORS, ids=lambda table: table.name)
def test_every_column_exists_in_nbgrader_with_the_same_type(table):
    theirs = api.Base.metadata.tables[table.name]
    for column in table.columns:
        assert column.name in theirs.columns, f"{table.name}.{column.name} is not nbgrader's"
        their_type = theirs.columns[column.name].type
        # an Enum is a String in SQLAlchemy; the rest must be the very same type
        assert isinstance(their_type, type(column.type)), (column.name, their_type, column.type)
    assert set(table.primary_key.columns.keys()) == set(theirs.primary_key.columns.keys())


def test_grade_score_is_nbgraders(tmp_path):
    build_hand_class(tmp_path)
    with api.Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        grades = gradebook.db.query(api.Grade).all()
        # extra credit on one grade, manual over auto on another: nbgrader's rules, not ours
        grades[0].extra_credit = 1.5
        grades[1].manual_score, grades[1].auto_score = 0.5, 4.0
        gradebook.db.commit()
        theirs = {grade.id: grade.score for grade in gradebook.db.query(api.Grade)}
    engine = open_gradebook(str(tmp_path / "gradebook.db"))
    with engine.connect() as connection:
        ours = dict(connection.execute(select(schema.GRADE.c.id, schema.grade_score())).all())
    engine.dispose()
    assert ours == theirs
    assert len(ours) == 27
