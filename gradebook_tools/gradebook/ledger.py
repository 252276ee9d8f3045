"""The ledger: an append-only record of every score change in the gradebook.

One table of the gradebook's own database, ``gradebook_tools_ledger`` (beside
nbgrader's, which ignores it), one row per changed value: when, who, student,
assignment, cell, old, new, why. Rows are only ever inserted.

Every writer of the course goes through nbgrader's models (``nbgrader.api``):
``nbgrader autograde``, the formgrader, nbgrader's API, the grading engine's
coordinator, the extension and late-day commands. :func:`install` hooks
SQLAlchemy's session events, so whatever changes a ``Grade`` (its score or
extra credit), a ``Comment`` or a ``SubmittedNotebook``'s late penalty writes its
ledger rows in the same transaction as the change. The course's
``nbgrader_config.py`` calls :func:`install`, so plain nbgrader commands and the
formgrader (same file) record too; the formgrader's entries name the Jupyter
user of the request.

Who and why come from the context (:func:`acting`): by default the OS user and
the command line (``nbgrader autograde``, ``gradebook-tools grade``). Other
writers (an LMS push) add their own rows with :func:`record`.

A grading worker's private, throw-away gradebook records nothing
(:func:`paused`).
"""

from __future__ import annotations

import contextvars
import getpass
import importlib.abc
import importlib.util
import os
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, cast

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, attributes

METADATA = MetaData()
LEDGER = Table(
    "gradebook_tools_ledger",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("when", DateTime, nullable=False),  # UTC, naive (as nbgrader stores its timestamps)
    Column("who", String(256), nullable=False),
    Column("student", String(128), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("notebook", String(128), nullable=False, default=""),
    Column("cell", String(256), nullable=False),
    # score, extra credit, late penalty, comment, late days, lms
    Column("kind", String(32), nullable=False, default="score"),
    Column("old", Text, nullable=True),
    Column("new", Text, nullable=True),
    Column("why", Text, nullable=False, default=""),
)

#: Kinds whose old and new values are numbers.
NUMERIC_KINDS = frozenset({"score", "extra credit", "late penalty", "late days", "lms"})

#: The keys of an entry in ``gradebook-tools history --format json``.
PUBLIC_KEYS = ("when", "who", "student", "assignment", "cell", "old", "new", "why")


@dataclass
class LedgerEntry:
    """One change of one value.

    ``cell`` is the graded cell's id (``grade_id``); ``kind`` says which of its
    values changed (``score``, ``extra credit``, ``comment``) or names a
    submission-wide value (``late penalty``: ``cell`` is then the notebook's name;
    ``late days``; ``lms``: a push of the total to an LMS).
    """

    when: datetime
    who: str
    student: str
    assignment: str
    cell: str
    old: float | str | None
    new: float | str | None
    why: str
    notebook: str = ""
    kind: str = "score"

    def public(self) -> dict[str, Any]:
        """The entry as ``history --format json`` gives it (``when`` in ISO 8601, UTC)."""
        data = asdict(self)
        data["when"] = self.when.replace(tzinfo=UTC).isoformat()
        return {key: data[key] for key in PUBLIC_KEYS}


# ---------------------------------------------------------------- who and why

_WHO: contextvars.ContextVar[str | None] = contextvars.ContextVar("ledger_who", default=None)
_WHY: contextvars.ContextVar[str | None] = contextvars.ContextVar("ledger_why", default=None)
_HANDLER: contextvars.ContextVar[Any] = contextvars.ContextVar("ledger_handler", default=None)
_PAUSED: contextvars.ContextVar[bool] = contextvars.ContextVar("ledger_paused", default=False)


def os_user() -> str:
    """The OS user of this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return f"uid {os.getuid()}"


def command_line() -> str:
    """The program and its subcommand, e.g. ``nbgrader autograde``: the default *why*."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    if program == "__main__.py":  # `python -m nbgrader ...`: the package's name
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        program = spec.name.removesuffix(".__main__") if spec is not None else "python"
    words = [program] + [word for word in sys.argv[1:2] if not word.startswith("-")]
    return " ".join(words)


def current_who() -> str:
    """Who changes scores now: :func:`acting`'s, the formgrader request's Jupyter user, or the OS user."""
    handler = _HANDLER.get()
    return _WHO.get() or (jupyter_user(handler) if handler is not None else os_user())


def current_why() -> str:
    return _WHY.get() or command_line()


@contextmanager
def acting(who: str | None = None, why: str | None = None) -> Iterator[None]:
    """Changes made inside are recorded with this ``who`` and/or ``why``."""
    tokens = []
    if who is not None:
        tokens.append((_WHO, _WHO.set(who)))
    if why is not None:
        tokens.append((_WHY, _WHY.set(why)))
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


@contextmanager
def paused() -> Iterator[None]:
    """Changes made inside are not recorded (a grading worker's private gradebook)."""
    token = _PAUSED.set(True)
    try:
        yield
    finally:
        _PAUSED.reset(token)


# ---------------------------------------------------------------- reading and writing rows


_KNOWN: weakref.WeakSet[Any] = weakref.WeakSet()  # engines whose database has the table


def ensure_table(bind: Engine | Connection) -> None:
    """Create the ledger table where it is missing (checked once per engine)."""
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine in _KNOWN:
        return
    METADATA.create_all(bind, tables=[LEDGER], checkfirst=True)
    _KNOWN.add(engine)


def _text(value: float | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def _rows(entries: Iterable[LedgerEntry]) -> list[dict[str, Any]]:
    return [
        {
            "when": entry.when.astimezone(UTC).replace(tzinfo=None) if entry.when.tzinfo else entry.when,
            "who": entry.who,
            "student": entry.student,
            "assignment": entry.assignment,
            "notebook": entry.notebook,
            "cell": entry.cell,
            "kind": entry.kind,
            "old": _text(entry.old),
            "new": _text(entry.new),
            "why": entry.why,
        }
        for entry in entries
    ]


def record(target: Engine | Connection | Session | Any, entries: Iterable[LedgerEntry]) -> int:
    """Append ``entries`` to the ledger; return how many.

    Parameters
    ----------
    target
        Where: an engine (its own transaction), a connection or an ORM session
        (their transaction: the rows commit with it), or an nbgrader ``Gradebook``.
    entries
        The changes, e.g. ``LedgerEntry(now(), "lms-sync", "ada", "ex01", "total", 7.0, 9.0,
        "pushed to Canvas", kind="lms")``.
    """
    rows = _rows(entries)
    if not rows:
        return 0
    if hasattr(target, "db") and hasattr(target, "engine"):  # an nbgrader Gradebook
        target = target.db
    if isinstance(target, Engine):
        ensure_table(target)
        with target.begin() as connection:
            connection.execute(LEDGER.insert(), rows)
    else:
        session_connection = cast(
            Connection,
            target.connection() if hasattr(target, "connection") and not isinstance(target, Connection) else target,
        )
        ensure_table(session_connection)
        session_connection.execute(LEDGER.insert(), rows)
    return len(rows)


def now() -> datetime:
    """The current time, UTC (naive, as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _value(kind: str, text: str | None) -> float | str | None:
    if text is None or kind not in NUMERIC_KINDS:
        return text
    try:
        return float(text)
    except ValueError:
        return text


def read_ledger(
    bind: Engine | Connection | str, student: str | None = None, assignment: str | None = None
) -> list[LedgerEntry]:
    """The ledger's entries, oldest first, optionally of one student and/or assignment."""
    from sqlalchemy import create_engine, inspect

    if isinstance(bind, str):
        engine = create_engine(bind)
        try:
            return read_ledger(engine, student, assignment)
        finally:
            engine.dispose()
    if LEDGER.name not in inspect(bind).get_table_names():
        return []
    query = select(LEDGER).order_by(LEDGER.c.id)
    if student is not None:
        query = query.where(LEDGER.c.student == student)
    if assignment is not None:
        query = query.where(LEDGER.c.assignment == assignment)
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            rows = connection.execute(query).mappings().all()
    else:
        rows = bind.execute(query).mappings().all()
    return [
        LedgerEntry(
            when=row["when"],
            who=row["who"],
            student=row["student"],
            assignment=row["assignment"],
            cell=row["cell"],
            old=_value(row["kind"], row["old"]),
            new=_value(row["kind"], row["new"]),
            why=row["why"],
            notebook=row["notebook"],
            kind=row["kind"],
        )
        for row in rows
    ]


# ---------------------------------------------------------------- the session listeners

_PENDING_KEY = "gradebook_tools_ledger_pending"
#: (database URL, submitted notebook id) -> (student, assignment, notebook); (URL, cell id) -> cell name
_PLACES: dict[tuple[str, str], tuple[str, str, str]] = {}
_CELL_NAMES: dict[tuple[str, str], str] = {}


def _before(history: attributes.History, default: Any = None) -> Any:
    """The value an attribute had before this flush's change."""
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return default


def _after(history: attributes.History, default: Any = None) -> Any:
    if history.added:
        return history.added[0]
    if history.unchanged:
        return history.unchanged[0]
    return default


def _score(manual: Any, auto: Any) -> Any:
    return manual if manual is not None else auto


def _changes(obj: Any) -> list[tuple[str, Any, Any]]:
    """(kind, old, new) of an nbgrader object's recorded values changed in this flush."""
    from nbgrader.api import Comment, Grade, SubmittedNotebook

    state = attributes.instance_state(obj)
    new_object = state.key is None

    def history(name: str) -> attributes.History:
        return attributes.get_history(obj, name)

    changes: list[tuple[str, Any, Any]] = []
    if isinstance(obj, Grade):
        manual, auto, extra = history("manual_score"), history("auto_score"), history("extra_credit")
        if manual.has_changes() or auto.has_changes() or new_object:
            old = None if new_object else _score(_before(manual), _before(auto))
            new = _score(_after(manual), _after(auto))
            if old != new:
                changes.append(("score", old, new))
        if extra.has_changes():
            old, new = (None if new_object else _before(extra)), _after(extra)
            if old != new:
                changes.append(("extra credit", old, new))
    elif isinstance(obj, Comment):
        manual, auto = history("manual_comment"), history("auto_comment")
        if manual.has_changes() or auto.has_changes():
            old = None if new_object else _score(_before(manual), _before(auto))
            new = _score(_after(manual), _after(auto))
            if old != new:
                changes.append(("comment", old, new))
    elif isinstance(obj, SubmittedNotebook):
        penalty = history("late_submission_penalty")
        if penalty.has_changes():
            old, new = (None if new_object else _before(penalty)), _after(penalty)
            if (old or 0) != (new or 0):
                changes.append(("late penalty", old, new))
    return changes


def _before_flush(session: Session, _flush_context: object, _instances: object) -> None:
    if _PAUSED.get() or "nbgrader.api" not in sys.modules:
        return
    from nbgrader.api import Comment, Grade, SubmittedNotebook

    pending = session.info.setdefault(_PENDING_KEY, [])
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, (Grade, Comment, SubmittedNotebook)):
            for change in _changes(obj):
                pending.append((obj, *change))
    if pending:
        session.info[_PENDING_KEY + ".context"] = (current_who(), current_why())


def _after_flush(session: Session, _flush_context: object) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    who, why = session.info.pop(_PENDING_KEY + ".context", (None, None))
    if not pending:
        return
    from nbgrader.api import Assignment, BaseCell, Notebook, SubmittedAssignment, SubmittedNotebook

    connection = session.connection()
    database = str(connection.engine.url)
    notebook_ids = {obj.id if isinstance(obj, SubmittedNotebook) else obj.notebook_id for obj, *_ in pending}
    cell_ids = {obj.cell_id for obj, *_ in pending if not isinstance(obj, SubmittedNotebook)}
    # where a submitted notebook belongs and a cell's name never change: asked once per process
    unknown_notebooks = {n for n in notebook_ids if (database, n) not in _PLACES}
    if unknown_notebooks:
        for row in connection.execute(
            select(SubmittedNotebook.id, SubmittedAssignment.student_id, Assignment.name, Notebook.name)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
            .where(SubmittedNotebook.id.in_(unknown_notebooks))
        ):
            _PLACES[(database, row[0])] = tuple(row[1:])
    unknown_cells = {c for c in cell_ids if (database, c) not in _CELL_NAMES}
    if unknown_cells:
        for cell_id, name in connection.execute(
            select(BaseCell.id, BaseCell.name).where(BaseCell.id.in_(unknown_cells))
        ):
            _CELL_NAMES[(database, cell_id)] = name
    places = {n: _PLACES.get((database, n), ("?", "?", "?")) for n in notebook_ids}
    cells = {c: _CELL_NAMES.get((database, c), "?") for c in cell_ids}
    when = now()
    entries = []
    for obj, kind, old, new in pending:
        notebook_id = obj.id if isinstance(obj, SubmittedNotebook) else obj.notebook_id
        student, assignment, notebook = places.get(notebook_id, ("?", "?", "?"))
        cell = notebook if kind == "late penalty" else cells.get(obj.cell_id, "?")
        entries.append(LedgerEntry(when, who, student, assignment, cell, old, new, why, notebook=notebook, kind=kind))
    record(connection, entries)


_INSTALLED = False


def _keep_old_value(_target: object, value: Any, _old: object, _initiator: object) -> Any:
    return value


def install() -> None:
    """Record every score change made through nbgrader's models in this process (idempotent).

    Called by the course's ``nbgrader_config.py``; the gradebook-tools commands
    that write scores call it too. nbgrader's models are hooked once
    ``nbgrader.api`` is imported (importing it here would add a second to every
    command that reads the configuration only).
    """
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    if "nbgrader.api" in sys.modules:
        _hook_nbgrader()
    else:
        sys.meta_path.insert(0, _AfterImport("nbgrader.api", _hook_nbgrader))
    _hook_formgrader()


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``then(module)`` right after the module ``name`` is first imported."""

    def __init__(self, name: str, then: Callable[[], None]):
        self.name, self.then = name, then

    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader, then = spec.loader, self.then

        def exec_module(module: ModuleType) -> None:
            type(loader).exec_module(loader, module)
            then()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _hook_nbgrader() -> None:
    from nbgrader.api import Comment, Grade, SubmittedNotebook

    # active history: a value set on an expired object (after a commit) still has its old value
    for model, names in (
        (Grade, ("auto_score", "manual_score", "extra_credit")),
        (Comment, ("auto_comment", "manual_comment")),
        (SubmittedNotebook, ("late_submission_penalty",)),
    ):
        for name in names:
            event.listen(getattr(model, name), "set", _keep_old_value, active_history=True)
    _hook_gradebook()


def _hook_gradebook() -> None:
    """Each ``Gradebook`` opened (outside a paused context) has the ledger table."""
    from nbgrader.api import Gradebook

    original = Gradebook.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not _PAUSED.get():
            ensure_table(self.engine)

    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    Gradebook.__init__ = __init__


def _hook_formgrader() -> None:
    """The formgrader's requests record the Jupyter user and ``formgrader`` as who and why."""
    name = "nbgrader.server_extensions.formgrader.base"
    if name not in sys.modules:  # hooked when (if ever) this process loads the formgrader
        sys.meta_path.insert(0, _AfterImport(name, _hook_formgrader))
        return
    handler = sys.modules[name].BaseHandler
    if getattr(handler, "_ledger_hooked", False):
        return
    original = handler.prepare

    def prepare(self):  # type: ignore[no-untyped-def]
        _HANDLER.set(self)  # its user is known once jupyter_server's prepare has authenticated it
        _WHY.set(f"formgrader ({self.request.method} {self.request.path})")
        return original(self)

    handler.prepare = prepare
    handler._ledger_hooked = True


def jupyter_user(handler: Any) -> str:
    """The name of a Jupyter request's user (jupyter_server's ``User``, a hub's model or a string)."""
    user = getattr(handler, "current_user", None)
    for name in ("username", "name"):
        value = getattr(user, name, None) or (user.get(name) if isinstance(user, dict) else None)
        if value:
            return f"{value} (Jupyter)"
    return f"{user} (Jupyter)" if isinstance(user, str) and user else os_user()
