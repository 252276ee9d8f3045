"""Jupyter server extensions: the hand-grading view beside the formgrader (issue 19).

Enable it where the formgrader runs (the instructor's or TA's Jupyter server,
started in the course folder)::

    jupyter server extension enable gradebook_tools.server

or for one run: ``jupyter lab --ServerApp.jpserver_extensions='{"gradebook_tools.server": True}'``.
The view is then at ``<server>/gradebook-tools/hand-grading`` (docs/hand_grading.md).
"""

from __future__ import annotations

from pathlib import Path


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "gradebook_tools.server"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Register the view's handlers; the course is the server's root folder, as for the formgrader."""
    from gradebook_tools.course.config import open_course
    from gradebook_tools.gradebook import ledger
    from gradebook_tools.server.handlers import URL_ROOT, handlers

    ledger.install()  # every grade the view writes is recorded where the course records score changes
    web_app = serverapp.web_app
    course = open_course(Path(serverapp.root_dir))
    web_app.settings["gradebook_tools_course"] = course
    web_app.add_handlers(".*$", handlers(web_app.settings["base_url"]))
    serverapp.log.info("gradebook-tools hand grading at /%s (course %s)", URL_ROOT, course.root)
