"""Tornado handlers of the hand-grading view, behind the Jupyter server's own authentication.

Every handler derives from ``jupyter_server``'s ``JupyterHandler``: requests
need the server's login (token or password, JupyterHub's OAuth on a hub) and
its authorizer's permission, and POSTs need the XSRF token the page carries.
Pages load only the extension's own script and style (a Content-Security-Policy
says so), so a student's answer, sanitized already, could not run a script
even if something slipped through.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from sqlalchemy import select
from tornado import web

from gradebook_tools.course.config import Course
from gradebook_tools.gradebook import ledger, rubrics
from gradebook_tools.server import hand_grading
from gradebook_tools.server.hand_grading import CellKey

#: Where the view lives on the server (below the server's base URL).
URL_ROOT = "gradebook-tools/hand-grading"
STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
#: The view loads its own files only; MathML needs no script.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class _HandGradingHandler(JupyterHandler):
    """What every handler of the view shares: the course, the grader, JSON in and out."""

    #: The permission asked of the server's authorizer (as the formgrader's handlers are: grading).
    auth_resource = "nbgrader"

    @property
    def content_security_policy(self) -> str:
        return PAGE_CSP

    @property
    def course(self) -> Course:
        return self.settings["gradebook_tools_course"]

    @property
    def grader(self) -> str:
        user = self.current_user
        return str(getattr(user, "username", None) or getattr(user, "name", None) or user or "")

    @property
    def blind(self) -> bool:
        return self.get_argument("blind", "0") == "1"

    def cell_key(self) -> CellKey:
        return CellKey(self.get_argument("assignment"), self.get_argument("notebook"), self.get_argument("cell"))

    def write_json(self, data, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data))

    def recorded(self, why: str):
        """Score changes made inside are in the course's ledger with this grader and ``why``."""
        return ledger.acting(who=f"{self.grader} (Jupyter)", why=f"hand-grading view: {why}")

    def json_body(self) -> dict:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as error:
            raise web.HTTPError(400, "the request body is not JSON") from error
        if not isinstance(body, dict):
            raise web.HTTPError(400, "the request body must be a JSON object")
        return body

    def render_page(self, template: str, **context) -> None:
        self.set_header("Cache-Control", "no-store")
        page = _ENVIRONMENT.get_template(template).render(
            base_url=self.base_url.rstrip("/") + "/",
            url_root=URL_ROOT,
            xsrf=self.xsrf_token.decode("ascii"),
            **context,
        )
        self.finish(page)


class IndexHandler(_HandGradingHandler):
    """The hand-graded cells of the course, with the count done and left: where a TA starts."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        with hand_grading.quiet(), hand_grading.open_gradebook(self.course) as gradebook:
            cells = hand_grading.hand_graded_cells(gradebook.db)
        self.render_page("index.html.j2", cells=cells)


class ViewHandler(_HandGradingHandler):
    """The grading view of one cell; the answers come from the JSON API, without page reloads."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        key = self.cell_key()
        self.render_page("view.html.j2", key=key, blind=self.blind)


class QueueHandler(_HandGradingHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        with hand_grading.quiet(), hand_grading.open_gradebook(self.course) as gradebook:
            self.write_json(hand_grading.queue(gradebook.db, self.cell_key(), self.blind, self.grader))


class AnswerHandler(_HandGradingHandler):
    @web.authenticated
    @authorized
    def get(self, grade_id: str) -> None:
        with hand_grading.quiet(), hand_grading.open_gradebook(self.course) as gradebook:
            found = hand_grading.answer(gradebook.db, self.course, grade_id, self.blind)
        if found is None:
            raise web.HTTPError(404, "no such answer")
        self.write_json(found)

    @web.authenticated
    @authorized
    def post(self, grade_id: str) -> None:
        body = self.json_body()
        with self.recorded("grade"), hand_grading.quiet(), hand_grading.open_gradebook(self.course) as gradebook:
            try:
                saved = hand_grading.save(gradebook.db, grade_id, body, self.grader, self.blind)
            except rubrics.RubricError as error:
                gradebook.db.rollback()
                self.write_json({"error": str(error)}, 400)
                return
        self.log.info("hand grading: %s saved grade %s: %s", self.grader, grade_id, saved["score"])
        self.write_json(saved)


class ItemsHandler(_HandGradingHandler):
    """Add a rubric item to a cell."""

    @web.authenticated
    @authorized
    def post(self) -> None:
        body = self.json_body()
        key = CellKey(str(body.get("assignment", "")), str(body.get("notebook", "")), str(body.get("cell", "")))
        with hand_grading.quiet(), hand_grading.open_gradebook(self.course) as gradebook:
            session = gradebook.db
            if not any(cell.key == key for cell in hand_grading.hand_graded_cells(session)):
                self.write_json({"error": "no such hand-graded cell"}, 404)
                return
            try:
                item = rubrics.add_item(
                    session,
                    key.assignment,
                    key.notebook,
                    key.cell,
                    body.get("points"),
                    str(body.get("label", "")),
                    str(body.get("comment", "")),
                )
            except rubrics.RubricError as error:
                session.rollback()
                self.write_json({"error": str(error)}, 400)
                return
            session.commit()
            items = rubrics.list_items(session, key.assignment, key.notebook, key.cell)
        self.write_json({"item": item.__dict__, "items": [i.__dict__ for i in items]})


class ItemHandler(_HandGradingHandler):
    """Edit a rubric item: ``{"preview": true, ...}`` says who changes; without it the edit is applied."""

    @web.authenticated
    @authorized
    def post(self, item_id: str) -> None:
        body = self.json_body()
        edit = dict(points=body.get("points"), label=body.get("label"), comment=body.get("comment"))
        with (
            self.recorded(f"rubric item {item_id} edited"),
            hand_grading.quiet(),
            hand_grading.open_gradebook(self.course) as gradebook,
        ):
            session = gradebook.db
            try:
                if body.get("preview"):
                    changes = rubrics.preview_item_edit(session, int(item_id), **edit)
                else:
                    changes = rubrics.apply_item_edit(session, int(item_id), **edit)
            except rubrics.RubricError as error:
                session.rollback()
                self.write_json({"error": str(error)}, 400)
                return
            item = rubrics._item_row(session, int(item_id))
            cell = session.execute(select(rubrics.RUBRIC_ITEM).where(rubrics.RUBRIC_ITEM.c.id == int(item_id))).one()
            items = rubrics.list_items(session, cell.assignment, cell.notebook, cell.cell)
        self.write_json(
            {
                "applied": not body.get("preview"),
                "changes": [change.__dict__ for change in changes],
                "item": item.__dict__,
                "items": [i.__dict__ for i in items],
            }
        )


def handlers(base_url: str) -> list[tuple]:
    """The view's routes below ``base_url``."""
    root = base_url.rstrip("/") + "/" + URL_ROOT
    api = root + "/api"
    return [
        (root + "/?", IndexHandler),
        (root + "/view", ViewHandler),
        (api + "/queue", QueueHandler),
        (api + r"/answers/([0-9a-f]{1,32})", AnswerHandler),
        (api + "/items", ItemsHandler),
        (api + r"/items/([0-9]{1,9})", ItemHandler),
        (root + "/static/(.*)", web.StaticFileHandler, {"path": str(STATIC)}),
    ]
