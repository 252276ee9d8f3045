"""A test LTI 1.3 Advantage platform: a real HTTP server on 127.0.0.1 for the tool to talk to.

It does what a platform must for the tool's requests, and checks them:

- ``POST /token``: the client-credentials grant with a JWT client assertion,
  verified against the tool's registered public key set (signature, ``kid``,
  ``iss`` = ``sub`` = client id, ``aud`` = this endpoint, ``exp`` short and in
  the future, ``jti`` never seen before); the token carries the requested
  scopes the registration grants;
- line items (AGS): list (pages, ``resource_id`` filter), create, read, update;
  scores; results; each with its scope and IMS media type (406 / 415 otherwise);
- memberships (NRPS), in pages linked with ``Link: rel="next"``.

Faults are injected on request (:meth:`Platform.inject`): ``401`` (the token
expires), ``429`` with ``Retry-After``, ``500``, ``drop`` (the connection is
closed without an answer, after the request was handled or before), and
``hold`` (the request is handled, then the answer waits until released: a test
kills the client meanwhile). Everything received is kept for the tests to assert.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_MEMBERSHIP = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_SCORE, SCOPE_RESULT, SCOPE_MEMBERSHIP}

LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

ACTIVITY = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TEACHING_ASSISTANT = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"

#: Longest client assertion lifetime accepted (seconds).
MAX_ASSERTION_LIFETIME = 600


@dataclass
class Fault:
    kind: str  # "401", "429", "500", "drop", "drop-after", "hold"
    method: str | None
    path: re.Pattern[str] | None
    times: int
    skip: int = 0
    retry_after: str | None = None
    store: bool = True  # hold: handle the request before holding its answer
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    status: int


class Platform:
    """The platform's state and its server. Use as a context manager, or :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        client_id: str,
        jwks: dict[str, Any],
        *,
        members: list[dict[str, Any]] | None = None,
        granted_scopes: set[str] | None = None,
        page_size: int = 50,
    ):
        self.client_id = client_id
        self.keys = {jwk["kid"]: jwt.PyJWK(jwk).key for jwk in jwks["keys"]}
        self.members = list(members or [])
        self.granted_scopes = set(ALL_SCOPES if granted_scopes is None else granted_scopes)
        self.page_size = page_size
        self.lock = threading.Lock()
        self.seen_jti: set[str] = set()
        self.tokens: dict[str, tuple[set[str], float]] = {}
        self.line_items: dict[int, dict[str, Any]] = {}
        #: (line item number, user id) -> every score document accepted, in order
        self.scores: dict[tuple[int, str], list[dict[str, Any]]] = {}
        self.received: list[Received] = []
        self.token_requests = 0
        #: The scopes of each token request, in order.
        self.requested_scopes: list[set[str]] = []
        self.faults: list[Fault] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.token_url = f"{self.url}/login/oauth2/token"
        self.lineitems_url = f"{self.url}/api/lti/courses/7/line_items"
        self.memberships_url = f"{self.url}/api/lti/courses/7/names_and_roles"
        self._thread: threading.Thread | None = None
        self._enrolled: tuple[tuple[int, int] | None, set[str]] = (None, set())

    # ------------------------------------------------------------ running

    def start(self) -> Platform:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        for fault in self.faults:
            fault.release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Platform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ for tests

    def inject(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
        skip: int = 0,
        retry_after: str | None = None,
        store: bool = True,
    ) -> Fault:
        """Answer the next ``times`` matching requests (after ``skip`` of them) with a fault."""
        fault = Fault(kind, method, re.compile(path) if path else None, times, skip, retry_after, store)
        with self.lock:
            self.faults.append(fault)
        return fault

    def final_scores(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(resourceId, user id) -> the last score document accepted."""
        with self.lock:
            return {
                (self.line_items[item]["resourceId"], user): documents[-1]
                for (item, user), documents in self.scores.items()
            }

    def score_posts(self) -> int:
        with self.lock:
            return sum(1 for r in self.received if r.method == "POST" and r.path.endswith("/scores"))

    def requests_to(self, method: str, pattern: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.method == method and re.search(pattern, r.path)]

    def enrolled(self) -> set[str]:
        """User ids of the active learners (kept while ``members`` is the same list of the same length)."""
        with self.lock:
            key = (id(self.members), len(self.members))
            if self._enrolled[0] != key:
                learners = {
                    m["user_id"]
                    for m in self.members
                    if LEARNER in m.get("roles", []) and m.get("status", "Active") == "Active"
                }
                self._enrolled = (key, learners)
            return self._enrolled[1]

    def stats(self) -> dict[str, int]:
        """Counts for a benchmark that runs the platform in another process."""
        final = self.final_scores()
        return {
            "received": len(self.received),
            "score_posts": self.score_posts(),
            "scores_held": len(final),
            "pending_manual": sum(1 for doc in final.values() if doc["gradingProgress"] == "PendingManual"),
            "line_items": len(self.line_items),
        }

    # ------------------------------------------------------------ internals

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times <= 0:
                    continue
                if fault.method and fault.method != method:
                    continue
                if fault.path and not fault.path.search(path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                return fault
        return None


class _Answer(Exception):
    def __init__(self, status: int, body: Any = None, media: str = "application/json", headers=None):
        self.status, self.body, self.media, self.headers = status, body, media, headers or {}


def _handler(platform: Platform):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # one write per answer, sent at once: headers and body in separate small writes would wait
        # for the client's delayed ACK (Nagle), ~40 ms an answer
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PUT(self):
            self._serve("PUT")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = platform.take_fault(method, self.path)
            if fault is not None and fault.kind == "drop":
                self._record(method, 0)
                self._drop()
                return
            if fault is not None and fault.kind in ("401", "429", "500"):
                status = int(fault.kind)
                if status == 401:
                    platform.tokens.pop(self._bearer() or "", None)  # the token expired
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(status, {"error": f"injected {status}"}, "application/json", headers)
                self._record(method, status)
                return
            answer = None
            if fault is None or fault.kind != "hold" or fault.store:
                try:
                    answer = self._route(method, body)
                except _Answer as given:
                    answer = given
            if fault is not None and fault.kind == "hold":
                fault.arrived.set()
                fault.release.wait(60)
                if not fault.store:
                    self._record(method, 0)
                    self._drop()
                    return
            if fault is not None and fault.kind == "drop-after":
                self._record(method, 0)
                self._drop()
                return
            assert answer is not None
            self._record(method, answer.status)
            try:
                self._send(answer.status, answer.body, answer.media, answer.headers)
            except OSError:
                pass  # the client went away (killed)

        def _record(self, method: str, status: int) -> None:
            with platform.lock:
                platform.received.append(Received(method, self.path, status))

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _send(self, status: int, body: Any, media: str, headers: dict[str, str]) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _bearer(self) -> str | None:
            value = self.headers.get("Authorization", "")
            return value[7:] if value.startswith("Bearer ") else None

        # ------------------------------------------------------------ routes

        def _route(self, method: str, body: bytes) -> _Answer:
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            base = urlsplit(platform.lineitems_url).path
            if path == "/_test/stats" and method == "GET":  # for a benchmark in another process
                return _Answer(200, platform.stats())
            if path == urlsplit(platform.token_url).path and method == "POST":
                return self._token(body)
            if path == urlsplit(platform.memberships_url).path and method == "GET":
                self._authorize({SCOPE_MEMBERSHIP})
                self._accept(MEMBERSHIP_CONTAINER)
                return self._members(query)
            if path == base and method == "GET":
                self._authorize({SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY})
                self._accept(LINEITEM_CONTAINER)
                return self._list_items(query)
            if path == base and method == "POST":
                self._authorize({SCOPE_LINEITEM})
                self._content(LINEITEM)
                return self._create_item(self._json(body))
            match = re.fullmatch(re.escape(base) + r"/(\d+)(/scores|/results)?", path)
            if match is None:
                raise _Answer(404, {"error": "not found"})
            number, tail = int(match.group(1)), match.group(2)
            if number not in platform.line_items:
                raise _Answer(404, {"error": "no such line item"})
            if tail == "/scores" and method == "POST":
                self._authorize({SCOPE_SCORE})
                self._content(SCORE)
                return self._score(number, self._json(body))
            if tail == "/results" and method == "GET":
                self._authorize({SCOPE_RESULT})
                self._accept(RESULT_CONTAINER)
                return self._results(number, query)
            if tail is None and method == "GET":
                self._authorize({SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY})
                self._accept(LINEITEM)
                return _Answer(200, platform.line_items[number], LINEITEM)
            if tail is None and method == "PUT":
                self._authorize({SCOPE_LINEITEM})
                self._content(LINEITEM)
                return self._update_item(number, self._json(body))
            raise _Answer(405, {"error": "method not allowed"})

        def _json(self, body: bytes) -> dict[str, Any]:
            try:
                value = json.loads(body)
            except ValueError:
                raise _Answer(400, {"error": "body is not JSON"}) from None
            if not isinstance(value, dict):
                raise _Answer(400, {"error": "body is not a JSON object"})
            return value

        def _accept(self, media: str) -> None:
            if media not in self.headers.get("Accept", ""):
                raise _Answer(406, {"error": f"Accept must name {media}"})

        def _content(self, media: str) -> None:
            if self.headers.get("Content-Type", "").split(";")[0].strip() != media:
                raise _Answer(415, {"error": f"Content-Type must be {media}"})

        def _authorize(self, any_of: set[str]) -> None:
            token = self._bearer()
            with platform.lock:
                entry = platform.tokens.get(token or "")
            if entry is None or entry[1] < time.time():
                raise _Answer(401, {"error": "invalid_token"}, headers={"WWW-Authenticate": "Bearer"})
            if not entry[0] & any_of:
                raise _Answer(403, {"error": "insufficient_scope"})

        def _token(self, body: bytes) -> _Answer:
            with platform.lock:
                platform.token_requests += 1
            if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                raise _Answer(400, {"error": "invalid_request"})
            form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
            if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != JWT_BEARER:
                raise _Answer(400, {"error": "unsupported_grant_type"})
            assertion = form.get("client_assertion", "")
            try:
                kid = jwt.get_unverified_header(assertion).get("kid")
                key = platform.keys[kid]
                claims = jwt.decode(
                    assertion,
                    key,
                    algorithms=["RS256"],
                    audience=platform.token_url,
                    issuer=platform.client_id,
                    options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
                )
            except (jwt.InvalidTokenError, KeyError) as error:
                raise _Answer(401, {"error": "invalid_client", "error_description": str(error)}) from None
            if claims["sub"] != platform.client_id:
                raise _Answer(401, {"error": "invalid_client", "error_description": "sub is not the client id"})
            if claims["exp"] - time.time() > MAX_ASSERTION_LIFETIME:
                raise _Answer(401, {"error": "invalid_client", "error_description": "assertion lives too long"})
            with platform.lock:
                if claims["jti"] in platform.seen_jti:
                    raise _Answer(401, {"error": "invalid_client", "error_description": "jti reused"})
                platform.seen_jti.add(claims["jti"])
                platform.requested_scopes.append(set(form.get("scope", "").split()))
                granted = set(form.get("scope", "").split()) & platform.granted_scopes
                token = secrets.token_urlsafe(24)
                platform.tokens[token] = (granted, time.time() + 3600)
            return _Answer(
                200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": " ".join(granted)}
            )

        def _page(self, items: list[Any], query: dict[str, list[str]], base_url: str) -> tuple[list[Any], dict]:
            page = int(query.get("page", ["0"])[0])
            size = platform.page_size
            chunk = items[page * size : (page + 1) * size]
            headers = {}
            if (page + 1) * size < len(items):
                extra = "".join(f"&{k}={v[0]}" for k, v in query.items() if k != "page")
                headers["Link"] = f'<{base_url}?page={page + 1}{extra}>; rel="next"'
            return chunk, headers

        def _members(self, query) -> _Answer:
            with platform.lock:
                members = list(platform.members)
            chunk, headers = self._page(members, query, platform.memberships_url)
            body = {"id": platform.memberships_url, "context": {"id": "course-7", "title": "Alignment"}}
            body["members"] = chunk
            return _Answer(200, body, MEMBERSHIP_CONTAINER, headers)

        def _list_items(self, query) -> _Answer:
            with platform.lock:
                items = list(platform.line_items.values())
            if "resource_id" in query:
                items = [item for item in items if item.get("resourceId") == query["resource_id"][0]]
            chunk, headers = self._page(items, query, platform.lineitems_url)
            return _Answer(200, chunk, LINEITEM_CONTAINER, headers)

        def _check_item(self, item: dict[str, Any]) -> None:
            maximum = item.get("scoreMaximum")
            if not isinstance(maximum, int | float) or maximum <= 0 or not isinstance(item.get("label"), str):
                raise _Answer(400, {"error": "a line item needs a label and a positive scoreMaximum"})

        def _create_item(self, item: dict[str, Any]) -> _Answer:
            self._check_item(item)
            with platform.lock:
                number = len(platform.line_items) + 1
                stored = {**item, "id": f"{platform.lineitems_url}/{number}"}
                platform.line_items[number] = stored
            return _Answer(201, stored, LINEITEM)

        def _update_item(self, number: int, item: dict[str, Any]) -> _Answer:
            self._check_item(item)
            with platform.lock:
                stored = {**item, "id": platform.line_items[number]["id"]}
                platform.line_items[number] = stored
            return _Answer(200, stored, LINEITEM)

        def _score(self, number: int, score: dict[str, Any]) -> _Answer:
            user = score.get("userId")
            if user not in platform.enrolled():
                raise _Answer(422, {"error": "user is not a learner of this course"})
            given, maximum = score.get("scoreGiven"), score.get("scoreMaximum")
            if given is not None and (not isinstance(given, int | float) or given < 0):
                raise _Answer(400, {"error": "scoreGiven must be a number >= 0"})
            if given is not None and (not isinstance(maximum, int | float) or maximum <= 0):
                raise _Answer(400, {"error": "scoreMaximum must be positive with scoreGiven"})
            if score.get("activityProgress") not in ACTIVITY or score.get("gradingProgress") not in GRADING:
                raise _Answer(400, {"error": "activityProgress or gradingProgress missing or unknown"})
            try:
                stamp = datetime.datetime.fromisoformat(score["timestamp"])
            except (KeyError, TypeError, ValueError):
                raise _Answer(400, {"error": "timestamp missing or not ISO 8601"}) from None
            if stamp.tzinfo is None:
                raise _Answer(400, {"error": "timestamp has no time zone"})
            with platform.lock:
                history = platform.scores.setdefault((number, user), [])
                if history and datetime.datetime.fromisoformat(history[-1]["timestamp"]) >= stamp:
                    raise _Answer(409, {"error": "a newer score is already recorded"})
                history.append(score)
            return _Answer(204, None)

        def _results(self, number: int, query) -> _Answer:
            item = platform.line_items[number]
            with platform.lock:
                latest = {user: docs[-1] for (n, user), docs in platform.scores.items() if n == number}
            if "user_id" in query:
                latest = {u: d for u, d in latest.items() if u == query["user_id"][0]}
            results = [
                {
                    "id": f"{item['id']}/results/{user}",
                    "scoreOf": item["id"],
                    "userId": user,
                    "resultScore": doc.get("scoreGiven"),
                    "resultMaximum": doc.get("scoreMaximum"),
                }
                for user, doc in sorted(latest.items())
            ]
            chunk, headers = self._page(results, query, f"{item['id']}/results")
            return _Answer(200, chunk, RESULT_CONTAINER, headers)

    return Handler


def member(user_id: str, login: str | None, given: str, family: str, *roles: str, **extra: Any) -> dict[str, Any]:
    """A member document as NRPS gives it."""
    document: dict[str, Any] = {
        "user_id": user_id,
        "status": "Active",
        "name": f"{given} {family}".strip(),
        "given_name": given,
        "family_name": family,
        "roles": list(roles) or [LEARNER],
    }
    if login is not None:
        document["login_id"] = login
    document.update(extra)
    return document


def serve(arguments: list[str]) -> None:
    """``python -m tests.lms.platform CLIENT_ID JWKS_FILE MEMBERS_FILE``: serve until stdin closes.

    Prints one JSON line with the URLs, for a benchmark that keeps the
    platform's work out of the tool's process.
    """
    import sys

    client_id, jwks_file, members_file = arguments
    with open(jwks_file, encoding="utf-8") as jwks, open(members_file, encoding="utf-8") as members:
        platform = Platform(client_id, json.load(jwks), members=json.load(members), page_size=100)
    with platform:
        urls = {
            "url": platform.url,
            "token_url": platform.token_url,
            "lineitems_url": platform.lineitems_url,
            "memberships_url": platform.memberships_url,
        }
        print(json.dumps(urls), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    import sys

    serve(sys.argv[1:])
