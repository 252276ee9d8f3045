"""A grading worker's database engines: one per gradebook URL, throw-away SQLite settings."""

from __future__ import annotations

import nbgrader.api
import pytest
from nbgrader.api import Gradebook
from sqlalchemy import text

from gradebook_tools.engine import sql_engines as engines


@pytest.fixture
def worker_engines(monkeypatch):
    """nbgrader's Gradebook with the worker's shared engines, in this test only."""
    monkeypatch.setattr(engines, "_ENGINES", {})
    monkeypatch.setattr(nbgrader.api, "create_engine", engines.shared_engine)
    yield engines._ENGINES
    engines.close_connections()


def test_gradebooks_opened_on_one_url_share_one_engine(tmp_path, worker_engines):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as first:
        first.add_student("alice")
    with Gradebook(url) as second:
        assert second.engine is first.engine  # its compiled statements too
        assert [s.id for s in second.students] == ["alice"]
    with Gradebook(f"sqlite:///{tmp_path / 'other.db'}") as other:
        assert other.engine is not first.engine
        assert other.students == []
    assert len(worker_engines) == 2


def test_a_workers_sqlite_gradebook_is_not_synced_at_each_commit(tmp_path, worker_engines):
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        with gradebook.engine.connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 0  # OFF
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "memory"


def test_a_replaced_database_file_is_read_anew_after_close_connections(tmp_path, worker_engines):
    # each task's private gradebook is a new file at the same path
    path = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{path}") as gradebook:
        gradebook.add_student("alice")
    engines.close_connections()
    path.unlink()
    with Gradebook(f"sqlite:///{path}") as gradebook:
        assert gradebook.students == []
