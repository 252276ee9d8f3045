"""Fixtures of the LMS tests: the tool's key (in the test's tmp_path), a course with ``c.LTI`` set, the platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gradebook_tools.course.config import open_course
from gradebook_tools.lms.keys import public_jwks
from tests.lms.platform import INSTRUCTOR, LEARNER, MENTOR, TEACHING_ASSISTANT, TEST_USER, Platform, member
from tests.support.conftest_gradebook import build_hand_class

CLIENT_ID = "10000000000042"


def write_key(folder: Path) -> Path:
    """A new 2048-bit RSA key in PEM, readable by its owner only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = folder / "lti-key.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return path


def hand_members() -> list[dict]:
    """The hand class on the platform: its four students, staff, a test student and a withdrawn learner."""
    return [
        member("u-ada", "ada", "Ada", "Lovelace", email="ada@example.edu"),
        member("u-bob", "bob", "Bob", "Babbage"),
        member("u-cyd", "cyd", "Cyd", "Charisse"),
        member("u-dan", "dan", "Dan", "Dennett"),
        member("u-prof", "prof", "Pat", "Professor", INSTRUCTOR),
        member("u-ta", "tess", "Tess", "Assistant", f"{INSTRUCTOR}", TEACHING_ASSISTANT),
        member("u-ta2", "tim", "Tim", "Helper", LEARNER, TEACHING_ASSISTANT),
        member("u-mentor", "max", "Max", "Mentor", MENTOR),
        member("u-test", "teststudent", "Test", "Student", LEARNER, TEST_USER),
    ]


def lti_config(platform: Platform, key_file: Path, **extra: object) -> str:
    lines = [
        f"c.LTI.issuer = {platform.url!r}",
        f"c.LTI.client_id = {CLIENT_ID!r}",
        "c.LTI.deployment_id = '1:deploy'",
        f"c.LTI.token_url = {platform.token_url!r}",
        f"c.LTI.lineitems_url = {platform.lineitems_url!r}",
        f"c.LTI.memberships_url = {platform.memberships_url!r}",
        f"c.LTI.private_key_file = {str(key_file)!r}",
        "c.LTI.backoff_seconds = 0.01",
    ] + [f"c.LTI.{name} = {value!r}" for name, value in extra.items()]
    return "\n".join(lines) + "\n"


class LmsCourse:
    """A hand-built course folder registered with a running test platform."""

    def __init__(self, root: Path, key_file: Path, platform: Platform):
        self.root, self.key_file, self.platform = root, key_file, platform

    def configure(self, **extra: object) -> None:
        config = self.root / "nbgrader_config.py"
        text = config.read_text(encoding="utf-8").split("# --- LTI\n")[0]
        config.write_text(text + "# --- LTI\n" + lti_config(self.platform, self.key_file, **extra), encoding="utf-8")

    @property
    def course(self):
        return open_course(self.root)


@pytest.fixture
def key_file(tmp_path) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir()
    return write_key(folder)


@pytest.fixture
def platform(key_file):
    from gradebook_tools.lms.keys import load_private_key

    jwks = public_jwks(load_private_key(key_file))
    with Platform(CLIENT_ID, jwks, members=hand_members(), page_size=3) as running:
        yield running


@pytest.fixture
def lms_course(tmp_path, key_file, platform) -> LmsCourse:
    root = tmp_path / "course"
    root.mkdir()
    build_hand_class(root)
    course = LmsCourse(root, key_file, platform)
    course.configure()
    return course
