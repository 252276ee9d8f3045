"""The tool's LTI 1.3 registration with the platform, as traits of :class:`LTI` in ``nbgrader_config.py``.

::

    c.LTI.issuer = "https://canvas.instructure.com"
    c.LTI.client_id = "10000000000042"
    c.LTI.deployment_id = "17:8865aa05b4b79b64a91a86042e43af5ea8ae79eb"
    c.LTI.token_url = "https://school.instructure.com/login/oauth2/token"
    c.LTI.lineitems_url = "https://school.instructure.com/api/lti/courses/7/line_items"
    c.LTI.memberships_url = "https://school.instructure.com/api/lti/courses/7/names_and_roles"
    c.LTI.private_key_file = "/etc/gradebook-tools/lti-key.pem"   # outside the course folder

Every URL the tool talks to must be HTTPS, except on the loopback interface
(127.0.0.0/8, ::1, ``localhost``), where the test platform runs.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from traitlets import Float, Int, List, Unicode
from traitlets.config import Configurable

from gradebook_tools.course.config import Course


class LmsError(Exception):
    """The LMS cannot be reached or refuses the tool; the message says what to do."""


class LmsConfigError(LmsError):
    """A trait of ``c.LTI`` is missing or wrong; the message names it."""


#: What each trait is, for messages that name a missing one.
TRAIT_HELP = {
    "issuer": "the platform's issuer, e.g. https://canvas.instructure.com",
    "client_id": "the client id of the tool's registration (Canvas: the developer key's id)",
    "deployment_id": "the deployment id of the tool in the course or account",
    "token_url": "the platform's OAuth 2 token endpoint",
    "lineitems_url": "the course's line items endpoint (AGS)",
    "memberships_url": "the course's memberships endpoint (NRPS)",
    "private_key_file": "the tool's RSA private key in PEM, kept outside the course folder",
}


class LTI(Configurable):
    """The tool's registration with an LTI 1.3 Advantage platform, and how it maps and retries."""

    issuer = Unicode("", help=TRAIT_HELP["issuer"]).tag(config=True)
    client_id = Unicode("", help=TRAIT_HELP["client_id"]).tag(config=True)
    deployment_id = Unicode("", help=TRAIT_HELP["deployment_id"]).tag(config=True)
    token_url = Unicode("", help=TRAIT_HELP["token_url"]).tag(config=True)
    lineitems_url = Unicode("", help=TRAIT_HELP["lineitems_url"]).tag(config=True)
    memberships_url = Unicode("", help=TRAIT_HELP["memberships_url"]).tag(config=True)
    private_key_file = Unicode("", help=TRAIT_HELP["private_key_file"]).tag(config=True)

    student_id_fields = List(
        Unicode(),
        default_value=["login_id", "username", "ext_user_username", "email"],
        help=(
            "Member fields (NRPS) tried in order for a learner's course student id: the platform's login or "
            "username field first, else the email. A learner's id is mapped once and recorded, never guessed again."
        ),
    ).tag(config=True)
    class_section_field = Unicode(
        "",
        help="Member field holding the learner's class section (lab or tutorial group); empty: sections stay "
        "as the course roster has them.",
    ).tag(config=True)
    default_class_section = Unicode("lms", help="Class section of a new learner when the platform gives none.").tag(
        config=True
    )
    excluded_user_ids = List(
        Unicode(), help="Platform user ids never treated as students (a test student the platform does not mark)."
    ).tag(config=True)

    scores_per_transaction = Int(
        1,
        help="Accepted scores recorded per gradebook transaction. 1: each right after its 2xx. More is faster "
        "where a commit is slow; a push killed in between settles the unrecorded ones from the platform's "
        "results (never sending them twice).",
    ).tag(config=True)

    max_retries = Int(5, help="Retries of a request after a 5xx, 429 or connection error before giving up.").tag(
        config=True
    )
    backoff_seconds = Float(1.0, help="First wait before a retry; doubled each time.").tag(config=True)
    max_backoff_seconds = Float(60.0, help="Longest wait between two retries.").tag(config=True)
    max_retry_after_seconds = Float(
        600.0, help="Longest Retry-After honoured; a longer one stops the run (run it again later)."
    ).tag(config=True)
    timeout_seconds = Float(30.0, help="Time limit of one HTTP request.").tag(config=True)
    assertion_lifetime_seconds = Int(
        300, help="Lifetime of the signed client assertion (IMS Security Framework: short)."
    ).tag(config=True)

    def require(self, *names: str) -> None:
        """Raise :class:`LmsConfigError` naming every missing trait of ``names``, and refuse unsafe URLs."""
        missing = [name for name in names if not getattr(self, name)]
        if missing:
            raise LmsConfigError(
                "set in nbgrader_config.py: "
                + "; ".join(f"c.LTI.{name} ({TRAIT_HELP[name]})" for name in missing)
                + " (docs/lms.md says where the platform shows each)"
            )
        for name in names:
            if name.endswith("_url"):
                problem = url_problem(getattr(self, name))
                if problem:
                    raise LmsConfigError(f"c.LTI.{name} {problem}")


def load_lti(course: Course) -> LTI:
    """The :class:`LTI` traits of a course's ``nbgrader_config.py``."""
    return LTI(config=course.config)


LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why the tool refuses to send a token or a score to ``url``, or None when it is fine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return f"is not a URL: {url!r}"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host and is_loopback(host):
        return None
    if parts.scheme == "http":
        return f"must use HTTPS (only loopback addresses may use plain HTTP): {url!r}"
    return f"must be an https:// URL: {url!r}"


def key_file_problem(course_root: Path, key_file: Path) -> str | None:
    """Why the private key may not be kept where it is (inside the course folder), or None."""
    try:
        key_file.resolve().relative_to(course_root.resolve())
    except ValueError:
        return None
    return (
        f"c.LTI.private_key_file {key_file} is inside the course folder {course_root}, where it could be "
        "committed or released: move it outside (e.g. /etc/gradebook-tools/) and set the new path"
    )
