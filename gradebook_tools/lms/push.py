"""Grade passback (AGS): one line item per exercise, and each learner's score when it changed.

A push

1. finds the line item of each exercise on the platform by ``resourceId`` (the
   exercise id), whichever copy of the course made it, and creates it only when
   there is none (``label`` the exercise's title, ``scoreMaximum`` its points);
2. settles any score an interrupted push left in state ``sending``: the
   platform's results say whether it arrived;
3. sends each mapped learner's score that differs from the last one recorded,
   recording each right after the platform accepts it, in its own transaction;
   a score the platform refuses (4xx) is skipped, named, and tried again next time.

``gradingProgress`` is ``PendingManual`` while a hand-graded cell of the
submission waits for a grader, else ``FullyGraded``. Only submitted work is
sent; a missing submission stays empty in the LMS.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gradebook_tools.gradebook.scores import ClassScores
from gradebook_tools.lms.config import LTI, LmsError
from gradebook_tools.lms.platform_client import (
    MEDIA_LINEITEM,
    MEDIA_LINEITEM_CONTAINER,
    MEDIA_RESULT_CONTAINER,
    MEDIA_SCORE,
    SCOPE_LINEITEM,
    SCOPE_RESULT,
    SCOPE_SCORE,
    PlatformClient,
    PlatformError,
    RejectedRequest,
    UncertainDelivery,
    excerpt,
)
from gradebook_tools.lms.store import SENDING, LmsStore, SentScore

#: The scopes a push asks for, and no others.
PUSH_SCOPES = [SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT]
FULLY_GRADED = "FullyGraded"
PENDING_MANUAL = "PendingManual"
MAX_PAGES = 1_000
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Exercise:
    """An exercise as a line item shows it."""

    resource_id: str
    label: str
    score_maximum: float
    duedate: datetime.datetime | None = None

    def line_item(self) -> dict[str, Any]:
        return {"scoreMaximum": self.score_maximum, "label": self.label, "resourceId": self.resource_id}


@dataclass
class PushReport:
    """What a push did (or, dry, would do)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    sent: int = 0
    unchanged: int = 0
    #: Scores an interrupted push had sent that the platform's results confirm.
    confirmed: int = 0
    #: One sentence per refused score, naming the student.
    rejected: list[str] = field(default_factory=list)
    #: Gradebook students with submissions but no platform mapping.
    not_mapped: list[str] = field(default_factory=list)
    #: Dry run: the requests, one line each.
    requests: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def exercise_title(course_root: Path, assignment: str) -> str:
    """The first ``# heading`` of the exercise's source notebook, else its id."""
    notebook = course_root / "source" / assignment / f"{assignment}.ipynb"
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return assignment
    for cell in cells[:3]:
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            if match := _HEADING.search(text):
                return excerpt(match.group(1).strip(), 250)
    return assignment


def exercises_of(scores: ClassScores, course_root: Path, only: list[str] | None = None) -> list[Exercise]:
    """The gradebook's assignments as line items (``only``: these ids, each of which must exist)."""
    by_name = {assignment.name: assignment for assignment in scores.assignments}
    if only:
        unknown = [name for name in only if name not in by_name]
        if unknown:
            from gradebook_tools.course.errors import UnknownNameError

            raise UnknownNameError(
                f"no assignment {', '.join(map(repr, unknown))} in the gradebook (known: {', '.join(by_name)})"
            )
    names = only or list(by_name)
    return [
        Exercise(name, exercise_title(course_root, name), by_name[name].max_score, by_name[name].duedate)
        for name in names
        if by_name[name].max_score > 0  # a line item needs a positive maximum; push_grades names the others
    ]


def scores_url(line_item: str) -> str:
    """The scores endpoint of a line item: ``/scores`` appended to its path, the query kept (AGS)."""
    parts = urlsplit(line_item)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def results_url(line_item: str) -> str:
    parts = urlsplit(line_item)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/results"))


def wanted_scores(
    scores: ClassScores,
    exercises: list[Exercise],
    user_of: dict[str, str],
    line_items: dict[str, str],
    now: datetime.datetime,
) -> tuple[list[SentScore], list[str]]:
    """The score each mapped learner should have on each exercise, and students with work but no mapping."""
    now = now.astimezone(datetime.UTC).replace(tzinfo=None)  # nbgrader's due dates are naive UTC
    wanted = []
    not_mapped = set()
    for exercise in exercises:
        activity = "Completed" if exercise.duedate is None or exercise.duedate <= now else "Submitted"
        for student in scores.students:
            submission = scores.submission(student.id, exercise.resource_id)
            if submission is None:
                continue
            user_id = user_of.get(student.id)
            if user_id is None:
                not_mapped.add(student.id)
                continue
            wanted.append(
                SentScore(
                    assignment=exercise.resource_id,
                    user_id=user_id,
                    student_id=student.id,
                    line_item=line_items[exercise.resource_id],
                    score_given=round(submission.score, 6),
                    score_maximum=exercise.score_maximum,
                    activity_progress=activity,
                    grading_progress=PENDING_MANUAL if submission.is_pending else FULLY_GRADED,
                )
            )
    return wanted, sorted(not_mapped)


def score_body(score: SentScore, timestamp: str) -> dict[str, Any]:
    """The AGS score document."""
    return {
        "userId": score.user_id,
        "scoreGiven": score.score_given,
        "scoreMaximum": score.score_maximum,
        "activityProgress": score.activity_progress,
        "gradingProgress": score.grading_progress,
        "timestamp": timestamp,
    }


def iso_timestamp(moment: datetime.datetime) -> str:
    """ISO 8601 with milliseconds and a time zone, as AGS asks."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds")


def changed(wanted: list[SentScore], sent: dict[tuple[str, str], SentScore]) -> tuple[list[SentScore], int]:
    """The scores that differ from what was last sent, and how many did not."""
    to_send = []
    for score in wanted:
        previous = sent.get((score.assignment, score.user_id))
        if previous is None or previous.state == SENDING or not previous.same_as(score):
            to_send.append(score)
    return to_send, len(wanted) - len(to_send)


# ---------------------------------------------------------------- the platform's line items


def list_line_items(client: PlatformClient, url: str, resource_id: str | None = None) -> list[dict[str, Any]]:
    """The context's line items (all pages), or those of one ``resource_id``."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    params = {"resource_id": resource_id} if resource_id else None
    for _ in range(MAX_PAGES):
        if next_url is None:
            return items
        response = client.request("GET", next_url, accept=MEDIA_LINEITEM_CONTAINER, params=params)
        try:
            page = response.json()
        except ValueError:
            raise PlatformError(f"{next_url} did not answer with JSON: check c.LTI.lineitems_url") from None
        if not isinstance(page, list):
            raise PlatformError(f"{next_url} did not answer with a list of line items: check c.LTI.lineitems_url")
        items.extend(item for item in page if isinstance(item, dict) and isinstance(item.get("id"), str))
        next_url = response.links.get("next", {}).get("url")
        params = None  # the next link carries the query
    raise PlatformError(f"{url}: more than {MAX_PAGES} pages of line items; the platform's next links loop")


def ensure_line_items(
    client: PlatformClient, lti: LTI, exercises: list[Exercise], report: PushReport
) -> dict[str, str]:
    """Exercise id -> its line item's URL, found by ``resourceId`` or created (never a second one)."""
    existing: dict[str, list[dict[str, Any]]] = {}
    for item in list_line_items(client, lti.lineitems_url):
        existing.setdefault(str(item.get("resourceId", "")), []).append(item)
    urls = {}
    for exercise in exercises:
        found = existing.get(exercise.resource_id, [])
        if len(found) > 1:
            report.warnings.append(
                f"the platform holds {len(found)} line items with resourceId {exercise.resource_id!r}; scores go "
                f"to the first ({found[0]['id']}): delete the others in the LMS gradebook"
            )
        if found:
            item = found[0]
            if item.get("label") != exercise.label or _number(item.get("scoreMaximum")) != exercise.score_maximum:
                updated = {**item, "label": exercise.label, "scoreMaximum": exercise.score_maximum}
                client.request("PUT", item["id"], content_type=MEDIA_LINEITEM, accept=MEDIA_LINEITEM, body=updated)
                report.updated.append(exercise.resource_id)
            urls[exercise.resource_id] = item["id"]
        else:
            urls[exercise.resource_id] = _create_line_item(client, lti, exercise)
            report.created.append(exercise.resource_id)
    return urls


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _create_line_item(client: PlatformClient, lti: LTI, exercise: Exercise) -> str:
    for _ in range(2):
        try:
            response = client.request(
                "POST",
                lti.lineitems_url,
                content_type=MEDIA_LINEITEM,
                accept=MEDIA_LINEITEM,
                body=exercise.line_item(),
                repeatable=False,
            )
        except UncertainDelivery:
            # it may have been created: look before trying again, so that there is never a second one
            found = list_line_items(client, lti.lineitems_url, exercise.resource_id)
            found = [item for item in found if item.get("resourceId") == exercise.resource_id]
            if found:
                return found[0]["id"]
            continue
        try:
            url = response.json()["id"]
        except (ValueError, KeyError, TypeError):
            raise PlatformError(
                f"creating the line item of {exercise.resource_id!r}: the platform's answer has no id"
            ) from None
        return str(url)
    raise LmsError(
        f"creating the line item of {exercise.resource_id!r}: the connection broke twice; run the push again"
    )


# ---------------------------------------------------------------- scores


def settle_interrupted(client: PlatformClient, store: LmsStore, report: PushReport) -> None:
    """Mark sent the scores an interrupted push sent that the platform holds; forget the others."""
    sending = [score for score in store.sent_scores().values() if score.state == SENDING]
    by_item: dict[str, list[SentScore]] = {}
    for score in sending:
        by_item.setdefault(score.line_item, []).append(score)
    arrived: list[tuple[SentScore, SentScore | None]] = []
    lost: list[SentScore] = []
    for line_item, scores in by_item.items():
        held = _results(client, results_url(line_item))
        for score in scores:
            result = held.get(score.user_id)
            if (
                result is not None
                and not score.indistinguishable_from_previous  # e.g. only PendingManual -> FullyGraded: send again
                and _number(result.get("resultScore")) == score.score_given
                and _number(result.get("resultMaximum", score.score_maximum)) == score.score_maximum
            ):
                arrived.append((score, None))
            else:
                lost.append(score)
    store.mark_all_sent(arrived)
    store.forget_sending(*lost)
    report.confirmed += len(arrived)


def _results(client: PlatformClient, url: str) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            break
        response = client.request("GET", next_url, accept=MEDIA_RESULT_CONTAINER)
        try:
            page = response.json()
        except ValueError:
            raise PlatformError(f"{next_url} did not answer with JSON results") from None
        for result in page if isinstance(page, list) else []:
            if isinstance(result, dict) and result.get("userId") is not None:
                results[str(result["userId"])] = result
        next_url = response.links.get("next", {}).get("url")
    return results


def send_scores(
    client: PlatformClient,
    store: LmsStore,
    to_send: list[SentScore],
    report: PushReport,
    timestamp: Callable[[], str],
    per_transaction: int = 1,
) -> None:
    """Send each score; record it once the platform accepts it; name each one refused.

    With ``per_transaction`` = 1 each accepted score is recorded right after its
    2xx, in its own transaction. More records that many at once: a push killed
    in between leaves them ``sending``, and the next push settles them from the
    platform's results instead of sending them again.
    """
    previous = store.sent_scores()
    store.mark_sending(to_send)
    accepted: list[tuple[SentScore, SentScore | None]] = []
    try:
        for index, score in enumerate(to_send):
            try:
                client.request(
                    "POST", scores_url(score.line_item), content_type=MEDIA_SCORE, body=score_body(score, timestamp())
                )
            except RejectedRequest as refused:
                store.forget_sending(score)
                report.rejected.append(
                    f"{score.student_id} (platform user {score.user_id!r}) on {score.assignment}: {refused.status} "
                    f"{refused.detail or ''}".rstrip()
                    + " — is the student enrolled in the course as a learner? (`gradebook-tools lms roster`)"
                )
                continue
            except LmsError:
                # this one's fate is unknown (the next push asks the platform); the rest never left
                store.forget_sending(*to_send[index + 1 :])
                raise
            accepted.append((score, previous.get((score.assignment, score.user_id))))
            report.sent += 1
            if len(accepted) >= per_transaction:
                store.mark_all_sent(accepted)
                accepted = []
    finally:
        store.mark_all_sent(accepted)


def dry_run(
    lti: LTI,
    store: LmsStore,
    exercises: list[Exercise],
    scores: ClassScores,
    now: datetime.datetime,
) -> PushReport:
    """The requests a push would send, without sending any (not even for a token); ``now`` is time-zone aware."""
    report = PushReport()
    known = store.line_items()
    form = f"grant_type=client_credentials&client_assertion_type=...&scope={' '.join(PUSH_SCOPES)}"
    report.requests.append(f"POST {lti.token_url} [application/x-www-form-urlencoded] {form}")
    report.requests.append(f"GET {lti.lineitems_url} [Accept: {MEDIA_LINEITEM_CONTAINER}]")
    line_items = {}
    for exercise in exercises:
        if exercise.resource_id in known:
            line_items[exercise.resource_id] = known[exercise.resource_id]
        else:
            line_items[exercise.resource_id] = f"<line item of {exercise.resource_id}>"
            report.requests.append(
                f"POST {lti.lineitems_url} [{MEDIA_LINEITEM}] {json.dumps(exercise.line_item())} "
                f"(unless the platform holds a line item with resourceId {exercise.resource_id!r})"
            )
            report.created.append(exercise.resource_id)
    sent = store.sent_scores()
    for line_item in sorted({score.line_item for score in sent.values() if score.state == SENDING}):
        report.requests.append(f"GET {results_url(line_item)} [Accept: {MEDIA_RESULT_CONTAINER}]")
    wanted, report.not_mapped = wanted_scores(scores, exercises, _user_of(store), line_items, now)
    to_send, report.unchanged = changed(wanted, sent)
    stamp = iso_timestamp(now)
    for score in to_send:
        report.requests.append(
            f"POST {scores_url(score.line_item)} [{MEDIA_SCORE}] {json.dumps(score_body(score, stamp))}"
        )
    return report


def _user_of(store: LmsStore) -> dict[str, str]:
    return {student_id: user_id for user_id, student_id in store.members().items()}


def push(
    client: PlatformClient,
    lti: LTI,
    store: LmsStore,
    exercises: list[Exercise],
    scores: ClassScores,
    now: Callable[[], datetime.datetime] | None = None,
) -> PushReport:
    """Find or create the line items, settle an interrupted push, send the changed scores."""
    clock = now or (lambda: datetime.datetime.now(datetime.UTC))
    report = PushReport()
    line_items = ensure_line_items(client, lti, exercises, report)
    for resource_id, url in line_items.items():
        store.record_line_item(resource_id, url)
    settle_interrupted(client, store, report)
    wanted, report.not_mapped = wanted_scores(scores, exercises, _user_of(store), line_items, clock())
    to_send, report.unchanged = changed(wanted, store.sent_scores())
    send_scores(client, store, to_send, report, lambda: iso_timestamp(clock()), max(1, lti.scores_per_transaction))
    return report
