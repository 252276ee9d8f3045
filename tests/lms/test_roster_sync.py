"""``lms roster``: the platform's learners (NRPS pages) mapped to student ids, compared, applied, never re-guessed."""

from __future__ import annotations

import math

from nbgrader.api import Gradebook

from gradebook_tools.cli import EXIT_BAD_INPUT, EXIT_OK, main
from gradebook_tools.gradebook.roster_store import read_class_sections
from gradebook_tools.gradebook.scores import open_gradebook
from gradebook_tools.lms.roster_sync import is_learner
from gradebook_tools.lms.store import LmsStore
from tests.lms.conftest import hand_members
from tests.lms.platform import INSTRUCTOR, LEARNER, TEACHING_ASSISTANT, TEST_USER, member
from tests.support.gradebook_factory import gradebook_url


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def class_members() -> list[dict]:
    """The platform's class after a term's changes: bob renamed, cyd left, eve and fay joined, ada moved."""
    members = [m for m in hand_members() if m["user_id"] != "u-cyd"]
    members[0]["section"] = "lab-C"
    members[1]["given_name"] = "Robert"
    members += [
        member("u-eve", "eve", "Eve", "Example", section="lab-B"),
        member("u-fay", None, "Fay", "Fields", email="fay@example.edu"),
        member("u-bad", "-rf", "Mal", "Formed"),
        member("u-old", "olga", "Olga", "Left", status="Inactive"),
    ]
    return members


def students(root) -> dict[str, tuple[str, str, str, str]]:
    with Gradebook(gradebook_url(root)) as gradebook:
        return {s.id: (s.first_name, s.last_name, s.email, s.lms_user_id) for s in gradebook.students}


def test_roles_that_are_students():
    assert is_learner(member("1", "a", "A", "B", LEARNER))
    assert is_learner(member("1", "a", "A", "B", "Learner"))  # the short form LTI 1.3 allows
    assert not is_learner(member("1", "a", "A", "B", INSTRUCTOR))
    assert not is_learner(member("1", "a", "A", "B", LEARNER, TEACHING_ASSISTANT))
    assert not is_learner(member("1", "a", "A", "B", LEARNER, TEST_USER))
    assert not is_learner(member("1", "a", "A", "B", LEARNER, status="Inactive"))
    assert not is_learner({"user_id": "1", "roles": "Learner"})  # not a list: not trusted


def test_roster_diff_then_apply_then_nothing_to_do(capsys, lms_course):
    root, platform = lms_course.root, lms_course.platform
    lms_course.configure(class_section_field="section")
    assert run(capsys, "roster", "import", root / "roster.csv", "--course", root)[0] == EXIT_OK
    platform.members = class_members()

    code, out, err = run(capsys, "lms", "roster", "--course", root)
    assert code == EXIT_BAD_INPUT, err  # one learner could not be mapped
    assert out.splitlines() == [
        "new: eve (Eve Example; platform user 'u-eve')",
        "new: fay@example.edu (Fay Fields; platform user 'u-fay')",
        "gone: cyd (no learner of the platform maps to this student; kept in the gradebook)",
        "gone: zed (no learner of the platform maps to this student; kept in the gradebook)",
        "renamed: bob: Bob Babbage -> Robert Babbage",
        "class section: ada: lab-A -> lab-C",
        "skipped: user 'u-bad' (Mal Formed): login_id '-rf' starts with '-' (nbgrader would read it as an option)",
        "5 learner(s) on the platform (5 newly mapped), 6 other member(s) (staff, test users, inactive) left out; "
        "2 new, 2 gone, 1 renamed, 1 class section change(s)",
        "nothing written: run again with --apply to write these differences",
    ]
    pages = math.ceil(len(platform.members) / platform.page_size)
    assert len(platform.requests_to("GET", "names_and_roles")) == pages == 4
    # read-only without --apply: no student added, no mapping recorded
    assert set(students(root)) == {"ada", "bob", "cyd", "dan", "zed"}
    engine = open_gradebook(gradebook_url(root))
    assert LmsStore(engine).members() == {}

    code, out, _ = run(capsys, "lms", "roster", "--apply", "--course", root)
    assert out.splitlines()[-1] == "applied: 2 added, 3 updated, 0 unchanged in the gradebook"
    assert students(root) == {
        "ada": ("Ada", "Lovelace", "ada@example.edu", "u-ada"),
        "bob": ("Robert", "Babbage", None, "u-bob"),
        "cyd": ("Cyd", "Charisse", None, None),
        "dan": ("Dan", "Dennett", None, "u-dan"),
        "eve": ("Eve", "Example", None, "u-eve"),
        "fay@example.edu": ("Fay", "Fields", "fay@example.edu", "u-fay"),
        "zed": ("Zed", "Unknown", None, None),
    }
    assert read_class_sections(engine) == {
        "ada": "lab-C",
        "bob": "lab-A",
        "cyd": "lab-B",
        "dan": "lms",
        "eve": "lab-B",
        "fay@example.edu": "lms",
        "zed": "lab-B",
    }
    assert LmsStore(engine).members() == {
        "u-ada": "ada",
        "u-bob": "bob",
        "u-dan": "dan",
        "u-eve": "eve",
        "u-fay": "fay@example.edu",
    }

    # the mapping is recorded: a login changed on the platform is reported, not followed
    platform.members[0]["login_id"] = "ada.lovelace"
    code, out, _ = run(capsys, "lms", "roster", "--apply", "--course", root)
    lines = out.splitlines()
    assert "note: ada's login_id on the platform is now 'ada.lovelace'; the recorded mapping to 'ada' is kept" in lines
    assert not [line for line in lines if line.startswith(("new:", "renamed:", "class section:"))]
    assert lines[-1] == "applied: 0 added, 0 updated, 5 unchanged in the gradebook"
    assert LmsStore(engine).members()["u-ada"] == "ada"
    engine.dispose()


def test_roster_names_are_data(capsys, lms_course):
    """A name with control characters or 200 characters is refused by the roster's own checks, and named."""
    platform = lms_course.platform
    platform.members = [
        member("u-x", "xavier", "X\x1b[31m", "Ray"),
        member("u-y", "yan", "Y" * 200, "Long"),
        member("u-z", "zoe", "=HYPERLINK(1)", "Formula"),
    ]
    code, out, _ = run(capsys, "lms", "roster", "--apply", "--course", lms_course.root)
    assert code == EXIT_BAD_INPUT
    assert "\x1b" not in out
    skipped = [line for line in out.splitlines() if line.startswith("skipped:")]
    assert skipped == [
        "skipped: the platform's class list, line 2: first_name of student 'xavier' contains a control character; "
        "row skipped",
        "skipped: the platform's class list, line 3: first_name of student 'yan' is longer than 128 characters; "
        "row skipped",
    ]
    assert students(lms_course.root)["zoe"][0] == "=HYPERLINK(1)"  # stored as data; CSV exports neutralize it
    engine = open_gradebook(gradebook_url(lms_course.root))
    assert LmsStore(engine).members() == {"u-z": "zoe"}  # refused rows are not mapped: decided again next time
    engine.dispose()


def test_a_new_course_gets_its_gradebook_from_the_platform(capsys, tmp_path, key_file, platform):
    """A course without a gradebook yet: the roster is the platform's learners, staff left out."""
    from tests.lms.conftest import LmsCourse

    root = tmp_path / "fresh"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n", encoding="utf-8")
    LmsCourse(root, key_file, platform).configure()
    code, out, _ = run(capsys, "lms", "roster", "--apply", "--course", root)
    assert code == EXIT_OK
    assert out.splitlines()[-1] == "applied: 4 added, 0 updated, 0 unchanged in the gradebook"
    assert students(root) == {
        "ada": ("Ada", "Lovelace", "ada@example.edu", "u-ada"),
        "bob": ("Bob", "Babbage", None, "u-bob"),
        "cyd": ("Cyd", "Charisse", None, "u-cyd"),
        "dan": ("Dan", "Dennett", None, "u-dan"),
    }
