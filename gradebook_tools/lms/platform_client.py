"""HTTP to the platform: an OAuth 2 token from a signed client assertion, and requests that survive failures.

- the token comes from the client-credentials grant with a JWT client assertion
  (IMS Security Framework), for the scopes the command needs and no others;
  it is kept until shortly before it expires;
- a 401 renews the token once; a second 401 stops with what to check;
- 429 waits as long as ``Retry-After`` says (up to ``c.LTI.max_retry_after_seconds``);
- 5xx and connection errors are retried after a doubling wait, at most
  ``c.LTI.max_retries`` times;
- any other 4xx is a :class:`RejectedRequest`, for the caller to decide (a
  student the platform refuses is skipped and named);
- a request that is not safe to repeat (creating a line item) is not retried
  after the connection broke mid-way: :class:`UncertainDelivery` lets the
  caller look first;
- every URL, including those the platform hands out (line items, the next page),
  must be HTTPS (plain HTTP on loopback only) and on a host of the configured
  URLs, so the token never goes anywhere else.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import sys
import time
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from gradebook_tools.lms.config import LTI, LmsError, url_problem
from gradebook_tools.lms.keys import JWT_BEARER, client_assertion

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_MEMBERSHIP = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

#: What to check after a refusal that is not about one student.
ADVICE = {
    403: " (check that the tool's registration grants the service and that the tool is deployed in this course: "
    "c.LTI.deployment_id; docs/lms.md)",
    404: " (check c.LTI.lineitems_url and c.LTI.memberships_url against the course's service URLs; docs/lms.md)",
    406: " (the platform does not serve the IMS media type at this URL: is it the course's service URL?)",
    415: " (the platform does not take the IMS media type at this URL: is it the course's service URL?)",
}

#: A token is renewed this long before the platform says it expires.
TOKEN_MARGIN_SECONDS = 30


class PlatformError(LmsError):
    """The platform answered with an error the tool cannot get past by retrying."""


class RejectedRequest(PlatformError):
    """A 4xx answer (other than 401 and 429) to one request."""

    def __init__(self, message: str, status: int, detail: str):
        super().__init__(message)
        self.status = status
        self.detail = detail


class UncertainDelivery(LmsError):
    """The connection broke after a request that is not safe to repeat may have reached the platform."""


def excerpt(text: str, limit: int = 200) -> str:
    """Platform text made safe to print: no control characters, at most ``limit`` characters."""
    cleaned = "".join(" " if unicodedata.category(char).startswith("C") else char for char in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def retry_after_seconds(value: str | None, now: datetime.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.datetime.now(datetime.UTC)
    return max(0.0, (when - now).total_seconds())


class PlatformClient:
    """Talks to one platform for one command, with the scopes that command needs.

    Parameters
    ----------
    lti
        The registration (URLs, client id) and the retry limits.
    key
        The tool's private key, for the client assertion.
    scopes
        The scopes to ask for.
    sleep
        Waits between retries (tests pass a recorder).
    log
        Receives one line per retry or renewal.
    """

    def __init__(
        self,
        lti: LTI,
        key: RSAPrivateKey,
        scopes: list[str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ):
        self.lti = lti
        self.key = key
        self.scopes = list(scopes)
        self.sleep = sleep
        self.log = log or (lambda line: print(line, file=sys.stderr))
        self.requests_sent = 0
        self._allowed_hosts = {
            (urlsplit(url).hostname or "").lower()
            for url in (lti.token_url, lti.lineitems_url, lti.memberships_url)
            if url
        }
        self._http = httpx.Client(timeout=lti.timeout_seconds, follow_redirects=False, trust_env=False)
        self._token: str | None = None
        self._token_expires = 0.0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ the token

    def _access_token(self) -> str:
        if self._token is None or time.monotonic() >= self._token_expires:
            self._token = self._fetch_token()
        return self._token

    def _fetch_token(self) -> str:
        lti = self.lti
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": client_assertion(
                self.key, lti.client_id, lti.token_url, lti.assertion_lifetime_seconds
            ),
            "scope": " ".join(self.scopes),
        }
        response = self._send("POST", lti.token_url, headers={"Accept": "application/json"}, data=form)
        if response.status_code != 200:
            raise PlatformError(
                f"the platform refused a token at c.LTI.token_url ({response.status_code}: "
                f"{excerpt(response.text)}): check c.LTI.client_id, that the key `gradebook-tools lms jwks` "
                "prints is registered with the platform, and that the registration grants the scopes "
                f"{', '.join(self.scopes)}"
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise PlatformError(
                f"the token endpoint {lti.token_url} answered without an access_token: is c.LTI.token_url the "
                "platform's OAuth 2 token endpoint?"
            ) from None
        granted = set(str(body.get("scope", " ".join(self.scopes))).split())
        missing = [scope for scope in self.scopes if scope not in granted]
        if missing:
            raise PlatformError(
                f"the platform did not grant the scope(s) {', '.join(missing)}: enable them in the tool's "
                "registration (Canvas: the developer key's LTI Advantage Services; Moodle: the tool's services), "
                "see docs/lms.md"
            )
        self._token_expires = time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_SECONDS)
        return token

    # ------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        url: str,
        *,
        accept: str | None = None,
        content_type: str | None = None,
        body: Any = None,
        params: dict[str, str] | None = None,
        repeatable: bool = True,
    ) -> httpx.Response:
        """Send one request to a service endpoint with the access token; return a 2xx response.

        Raises
        ------
        RejectedRequest
            A 4xx answer other than 401 and 429.
        UncertainDelivery
            The connection broke after a request with ``repeatable=False`` was sent.
        LmsError
            Retries exhausted, or the token refused twice.
        """
        renewed = False
        while True:
            headers = {"Authorization": f"Bearer {self._access_token()}"}
            if accept:
                headers["Accept"] = accept
            if content_type:
                headers["Content-Type"] = content_type
            content = None if body is None else json.dumps(body).encode("utf-8")
            response = self._send(method, url, headers=headers, content=content, params=params, repeatable=repeatable)
            if response.status_code == 401 and not renewed:
                renewed = True
                self._token = None
                self.log(f"the platform refused the access token for {method} {url}: renewing it once")
                continue
            if response.status_code == 401:
                raise PlatformError(
                    f"the platform refused a fresh access token for {method} {url} ({excerpt(response.text)}): "
                    f"check that the tool's registration grants {', '.join(self.scopes)} and is deployed in the "
                    "course (c.LTI.deployment_id)"
                )
            if response.status_code >= 400:
                raise RejectedRequest(
                    f"{method} {url}: {response.status_code} {excerpt(response.text)}"
                    + ADVICE.get(response.status_code, ""),
                    response.status_code,
                    excerpt(response.text),
                )
            return response

    def _check_url(self, url: str) -> None:
        problem = url_problem(url)
        if problem:
            raise LmsError(f"the tool does not send a token to a URL that {problem}")
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._allowed_hosts:
            raise LmsError(
                f"the platform pointed to {url!r}, on a host that none of c.LTI.token_url, lineitems_url, "
                "memberships_url names: refused (the access token would leave the platform)"
            )

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        content: bytes | None = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        repeatable: bool = True,
    ) -> httpx.Response:
        """One request, retried after 429, 5xx and connection errors."""
        self._check_url(url)
        lti = self.lti
        retries = 0
        while True:
            self.requests_sent += 1
            try:
                response = self._http.request(method, url, headers=headers, content=content, data=data, params=params)
            except httpx.TransportError as error:
                never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                if not repeatable and not never_sent:
                    raise UncertainDelivery(f"{method} {url}: the connection broke ({error})") from error
                reason = f"connection error ({excerpt(str(error)) or type(error).__name__})"
                wait = None
            else:
                if response.status_code == 429:
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    if wait is not None and wait > lti.max_retry_after_seconds:
                        raise LmsError(
                            f"the platform asks to wait {wait:.0f} s before {method} {url} (429): run the command "
                            "again later; nothing already sent is sent again"
                        )
                    reason = "429 Too Many Requests"
                elif response.status_code >= 500:
                    reason, wait = f"{response.status_code} {excerpt(response.text, 80)}", None
                else:
                    return response
            retries += 1
            if retries > lti.max_retries:
                raise LmsError(
                    f"{method} {url} failed {retries} times, last with {reason}: check that the platform is up "
                    "and run the command again (nothing already recorded is sent twice), or raise c.LTI.max_retries"
                )
            if wait is None:
                wait = min(lti.max_backoff_seconds, lti.backoff_seconds * 2 ** (retries - 1))
            self.log(f"{method} {url}: {reason}; retry {retries} of {lti.max_retries} in {wait:.2f} s")
            self.sleep(wait)
