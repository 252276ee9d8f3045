"""One SQLAlchemy engine per gradebook URL in a grading worker, shared by nbgrader's many ``Gradebook`` opens.

nbgrader opens a ``Gradebook`` about a dozen times for one submission (each
converter step and preprocessor opens its own), and every open creates a new
SQLAlchemy engine: a new dialect, pool and empty compiled-statement cache, so
each of nbgrader's queries is compiled again each time. A worker's tasks keep
their private gradebook at the same path
(:func:`~gradebook_tools.engine.task.run_task`), so in a worker process
``nbgrader.api`` gets one engine per URL and its statements are compiled once
per process. Only worker processes do this; plain nbgrader is untouched.

Their SQLite databases are the tasks' private, throw-away gradebooks: they are
not synced to disk at each commit.

``Gradebook.close`` disposes the engine's pool (not its statement cache), so no
connection outlives the ``Gradebook`` that opened it; :func:`close_connections`
does the same between tasks for anything still pooled, before the private
course (and its database file) is removed.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection

_ENGINES: dict[tuple[str, tuple[tuple[str, Any], ...]], Engine] = {}
_LOCK = threading.Lock()


def shared_engine(url: str | URL, **options: Any) -> Engine:
    """``sqlalchemy.create_engine``, returning the process's engine for the same URL and options."""
    key = (str(url), tuple(sorted(options.items())))
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = create_engine(url, **options)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _throw_away_database)
        return engine


def _throw_away_database(connection: DBAPIConnection, _record: object) -> None:
    # a worker's gradebooks are private copies removed after each task (the coordinator writes the
    # real one): waiting for the disk at each of nbgrader's ~40 commits a task buys nothing
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("PRAGMA journal_mode = MEMORY")
    cursor.close()


def share_engines() -> None:
    """Make nbgrader's ``Gradebook`` use :func:`shared_engine` in this process (a grading worker)."""
    import nbgrader.api

    nbgrader.api.create_engine = shared_engine


def close_connections() -> None:
    """Close every pooled connection of the shared engines (their compiled statements stay)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
