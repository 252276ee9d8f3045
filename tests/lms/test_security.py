"""The tool's credentials and what it sends where: the client assertion, the JWKS, HTTPS, scopes, the key file."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from gradebook_tools.cli import EXIT_COURSE_PROBLEM, EXIT_OK, main
from gradebook_tools.lms.config import LmsError, url_problem
from gradebook_tools.lms.keys import JWT_BEARER, client_assertion, key_id, load_private_key, rsa_thumbprint
from gradebook_tools.lms.service import push_grades, sync_roster
from tests.lms.conftest import CLIENT_ID, write_key
from tests.lms.platform import LINEITEM_CONTAINER, SCOPE_LINEITEM, SCOPE_MEMBERSHIP, SCOPE_RESULT, SCOPE_SCORE


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_rfc7638_thumbprint_example():
    """The key id is RFC 7638's thumbprint: the RFC's own example (section 3.1)."""
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
        "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
        "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
        "kEgU8awapJzKnqDKgw"
    )
    assert rsa_thumbprint(n, "AQAB") == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_client_assertion_claims(key_file):
    key = load_private_key(key_file)
    token_url = "https://lms.example.edu/login/oauth2/token"
    before = int(time.time())
    first, second = (client_assertion(key, CLIENT_ID, token_url, 300) for _ in range(2))
    assert jwt.get_unverified_header(first) == {"alg": "RS256", "kid": key_id(key), "typ": "JWT"}
    claims = jwt.decode(first, key.public_key(), algorithms=["RS256"], audience=token_url)
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == token_url
    assert claims["exp"] - claims["iat"] == 300 and before <= claims["iat"] <= int(time.time())
    assert claims["jti"] != jwt.decode(second, key.public_key(), algorithms=["RS256"], audience=token_url)["jti"]


def test_jwks_prints_the_public_key_only(capsys, lms_course):
    code, out, err = run(capsys, "lms", "jwks", "--course", lms_course.root)
    assert code == EXIT_OK, err
    (jwk,) = json.loads(out)["keys"]
    assert set(jwk) == {"kty", "alg", "use", "kid", "n", "e"}  # no private parameter (d, p, q, dp, dq, qi)
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    key = load_private_key(lms_course.key_file)
    assert jwk["kid"] == key_id(key)
    assert jwt.PyJWK(jwk).key.public_numbers() == key.public_key().public_numbers()
    pem = lms_course.key_file.read_text()
    assert pem.splitlines()[1] not in out + err

    code, out, err = run(capsys, "lms", "jwks", "--pem", "--course", lms_course.root)
    assert code == EXIT_OK
    assert out.startswith("-----BEGIN PUBLIC KEY-----\n") and out.endswith("-----END PUBLIC KEY-----\n")
    public = serialization.load_pem_public_key(out.encode())
    assert public.public_numbers() == key.public_key().public_numbers()
    assert pem.splitlines()[1] not in out + err


@pytest.mark.parametrize(
    "url, problem",
    [
        ("https://canvas.example.edu/api/lti/courses/7/line_items", None),
        ("http://127.0.0.1:8000/token", None),
        ("http://127.3.4.5/token", None),
        ("http://[::1]:9000/token", None),
        ("http://localhost/token", None),
        ("http://canvas.example.edu/token", "must use HTTPS (only loopback addresses may use plain HTTP)"),
        ("http://127.0.0.1.example.com/token", "must use HTTPS (only loopback addresses may use plain HTTP)"),
        ("ftp://canvas.example.edu/token", "must be an https:// URL"),
        ("canvas.example.edu/token", "must be an https:// URL"),
    ],
)
def test_https_required_except_loopback(url, problem):
    found = url_problem(url)
    assert (found.rsplit(": ", 1)[0] if found else None) == problem


def test_plain_http_to_a_real_host_is_refused(capsys, lms_course):
    lms_course.configure(token_url="http://lms.example.edu/login/oauth2/token")
    code, _, err = run(capsys, "lms", "push", "--course", lms_course.root)
    assert code == EXIT_COURSE_PROBLEM
    assert err == (
        "error: c.LTI.token_url must use HTTPS (only loopback addresses may use plain HTTP): "
        "'http://lms.example.edu/login/oauth2/token'\n"
    )
    assert lms_course.platform.received == []


def test_missing_traits_are_named(capsys, lms_course):
    lms_course.configure(client_id="", lineitems_url="")
    code, _, err = run(capsys, "lms", "push", "--course", lms_course.root)
    assert code == EXIT_COURSE_PROBLEM
    assert err.startswith(
        "error: set in nbgrader_config.py: c.LTI.client_id (the client id of the tool's registration "
        "(Canvas: the developer key's id)); c.LTI.lineitems_url (the course's line items endpoint (AGS))"
    )


def test_key_file_inside_the_course_is_refused_and_never_printed(capsys, lms_course):
    inside = write_key(lms_course.root)
    lms_course.configure(private_key_file=str(inside))
    code, out, err = run(capsys, "lms", "jwks", "--course", lms_course.root)
    assert code == EXIT_COURSE_PROBLEM
    assert err == (
        f"error: c.LTI.private_key_file {inside} is inside the course folder {lms_course.root}, where it could be "
        "committed or released: move it outside (e.g. /etc/gradebook-tools/) and set the new path\n"
    )
    missing = lms_course.key_file.parent / "absent.pem"
    lms_course.configure(private_key_file=str(missing))
    code, out, err = run(capsys, "lms", "jwks", "--course", lms_course.root)
    assert code == EXIT_COURSE_PROBLEM
    assert err.startswith(f"error: cannot read c.LTI.private_key_file {missing}: No such file or directory;")
    not_a_key = lms_course.key_file.parent / "notes.txt"
    not_a_key.write_text("SECRET-NOTES-1234\n")
    lms_course.configure(private_key_file=str(not_a_key))
    code, out, err = run(capsys, "lms", "jwks", "--course", lms_course.root)
    assert code == EXIT_COURSE_PROBLEM and "SECRET-NOTES" not in out + err
    assert str(not_a_key) in err


def test_a_key_the_platform_does_not_know_gets_no_token(capsys, lms_course, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    lms_course.configure(private_key_file=str(write_key(other)))
    code, _, err = run(capsys, "lms", "roster", "--course", lms_course.root)
    assert code == EXIT_COURSE_PROBLEM
    assert err.startswith("error: the platform refused a token at c.LTI.token_url (401: ")
    assert "that the key `gradebook-tools lms jwks` prints is registered with the platform" in err


def test_each_command_asks_only_for_its_scopes(lms_course):
    platform = lms_course.platform
    sync_roster(lms_course.course, apply=True)
    push_grades(lms_course.course)
    assert platform.requested_scopes == [{SCOPE_MEMBERSHIP}, {SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT}]


def test_a_scope_the_platform_withholds_stops_with_what_to_enable(lms_course):
    sync_roster(lms_course.course, apply=True)
    lms_course.platform.granted_scopes.discard(SCOPE_SCORE)
    with pytest.raises(
        LmsError, match="did not grant the scope.s. https://purl.imsglobal.org/spec/lti-ags/scope/score"
    ):
        push_grades(lms_course.course)
    assert lms_course.platform.score_posts() == 0


def test_urls_from_the_platform_must_stay_on_its_hosts(lms_course):
    """A line item whose id points elsewhere gets neither the token nor a score."""
    platform = lms_course.platform
    sync_roster(lms_course.course, apply=True)
    platform.line_items[1] = {
        "id": "http://127.0.0.2:9/steal",
        "resourceId": "ex01_a",
        "label": "ex01_a",
        "scoreMaximum": 10.0,
    }
    with pytest.raises(LmsError, match="on a host that none of c.LTI.token_url, lineitems_url, memberships_url"):
        push_grades(lms_course.course, ["ex01_a"])


def test_the_test_platform_checks_assertions_and_media_types(key_file, platform):
    """The test platform itself refuses a replayed jti, a wrong audience, an expired assertion, a wrong Accept."""
    key = load_private_key(key_file)

    def token(assertion: str) -> httpx.Response:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
            "scope": SCOPE_LINEITEM,
        }
        return httpx.post(platform.token_url, data=form)

    assertion = client_assertion(key, CLIENT_ID, platform.token_url)
    granted = token(assertion)
    assert granted.status_code == 200
    assert token(assertion).json()["error_description"] == "jti reused"
    assert token(client_assertion(key, CLIENT_ID, platform.url + "/other")).status_code == 401
    assert token(client_assertion(key, CLIENT_ID, platform.token_url, -10)).status_code == 401
    assert token(client_assertion(key, CLIENT_ID, platform.token_url, 3600)).status_code == 401
    assert token(client_assertion(key, "someone-else", platform.token_url)).status_code == 401
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    assert httpx.get(platform.lineitems_url, headers=bearer).status_code == 406
    assert httpx.get(platform.lineitems_url, headers={**bearer, "Accept": LINEITEM_CONTAINER}).status_code == 200
    assert httpx.get(platform.memberships_url, headers=bearer).status_code == 403  # scope not granted
    created = httpx.post(platform.lineitems_url, headers=bearer, json={"label": "x", "scoreMaximum": 1})
    assert created.status_code == 415


def test_a_wrong_service_url_says_which_trait_to_check(capsys, lms_course):
    lms_course.configure(lineitems_url=lms_course.platform.url + "/api/lti/courses/8/lineitems")
    code, _, err = run(capsys, "lms", "push", "--course", lms_course.root)
    assert code == EXIT_COURSE_PROBLEM
    assert err == (
        f"error: GET {lms_course.platform.url}/api/lti/courses/8/lineitems: 404 "
        '{"error": "not found"} (check c.LTI.lineitems_url and c.LTI.memberships_url against the course\'s '
        "service URLs; docs/lms.md)\n"
    )
