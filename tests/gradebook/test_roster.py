"""Roster CSV: class sections, and clear messages for every kind of bad row."""

import pytest

from gradebook_tools.gradebook.roster import (
    NOT_ON_ROSTER,
    RosterEntry,
    RosterError,
    assign_class_sections,
    parse_roster,
    read_roster,
)


def test_reads_sections_and_optional_names():
    roster = parse_roster(
        ["student_id,section,first_name,last_name,email", "ada,lab-A,Ada,Lovelace,ada@example.edu", "bob,lab-B"]
    )
    assert roster.entries["ada"].email == "ada@example.edu"
    assert roster.entries["bob"].class_section == "lab-B"
    assert roster.entries["bob"].first_name == ""
    assert roster.class_sections == ["lab-A", "lab-B"]
    assert roster.messages == []


def test_the_class_section_column_and_its_older_name_section_read_alike():
    for header in ("student_id,class_section", "student_id,section", "id,class_section"):
        roster = parse_roster([header, "ada,lab-A"])
        assert roster.entries["ada"].class_section == "lab-A", header
        assert roster.messages == []


def test_header_is_case_and_space_insensitive_and_columns_may_be_reordered():
    roster = parse_roster([" Section , Student_ID", "tut-1, ada "])
    assert roster.entries["ada"].class_section == "tut-1"


def test_bad_rows_are_reported_with_their_line_and_never_dropped_silently():
    roster = parse_roster(
        [
            "student_id,section",
            "ada,lab-A",
            "ada,lab-B",  # duplicate
            ",lab-C",  # no id
            "cyd,",  # no section
            "dan,lab-A,extra",  # too many fields
            "",  # blank: layout, not data
            "eve,lab-B",
        ],
        source="roster.csv",
    )
    assert list(roster.entries) == ["ada", "eve"]
    assert roster.entries["ada"].class_section == "lab-A"
    assert roster.messages == [
        "roster.csv, line 3: duplicate student 'ada': kept section 'lab-A', ignored 'lab-B'",
        "roster.csv, line 4: no student_id; row skipped",
        "roster.csv, line 5: no section for student 'cyd'; row skipped",
        "roster.csv, line 6: 3 fields but the header has 2; row skipped",
    ]


@pytest.mark.parametrize(
    "lines, missing",
    [
        (["name,group", "ada,A"], "student_id, class_section"),
        (["student_id,name", "ada,Ada"], "class_section"),
        ([], "student_id, class_section"),
    ],
)
def test_a_header_without_the_required_columns_is_an_error(lines, missing):
    with pytest.raises(RosterError, match=f"missing: {missing}"):
        parse_roster(lines)


def test_nbgrader_column_names_id_and_class_section_are_accepted():
    roster = parse_roster(["id,class_section,first_name,lms_user_id", "ada,lab-A,Ada,12345"])
    assert roster.entries["ada"] == RosterEntry("ada", "lab-A", first_name="Ada", lms_user_id="12345")


@pytest.mark.parametrize(
    "student_id, reason",
    [
        ("ada,bob", "contains a comma"),
        ("../ada", "starts with '.' (a hidden or relative folder)"),
        ("ada/bob", "contains a slash"),
        ("-rf", "starts with '-' (nbgrader would read it as an option)"),
        ("=1+1", "starts with '=' (a spreadsheet would read it as a formula)"),
        ("@SUM(A1)", "starts with '@' (a spreadsheet would read it as a formula)"),
        ("<script>", "contains markup ('<')"),
        ("ada bob", "contains a space"),
        ("ad\x1ba", "contains a control character"),
        ("zoë", "contains non-ASCII characters"),
        ("s*", "contains a glob character ('*')"),
        ("x" * 129, "is longer than 128 characters"),
    ],
)
def test_unsafe_ids_are_refused_with_the_reason_and_the_line(student_id, reason):
    student_id = student_id.replace("\\x1b", "\x1b")
    lines = ["student_id,section", "ada,lab-A", f'"{student_id}",lab-B', "s0002.b-c_d@x+y,lab-B"]
    roster = parse_roster(lines, source="roster.csv")
    assert list(roster.entries) == ["ada", "s0002.b-c_d@x+y"]
    assert roster.messages == [f"roster.csv, line 3: student id {student_id!r} {reason}; row skipped"]


def test_names_with_control_characters_are_refused_and_a_quoted_newline_keeps_line_numbers(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('student_id,section,first_name\nada,lab-A,"Ada\nLovelace"\nbob,lab-A,Bo\x1b[31mb\ncyd,lab-A,Cyd\n')
    roster = read_roster(path)
    assert list(roster.entries) == ["cyd"]
    assert roster.messages == [
        f"{path}, line 2: first_name of student 'ada' contains a control character; row skipped",
        f"{path}, line 4: first_name of student 'bob' contains a control character; row skipped",
    ]


def test_unreadable_file_is_an_error(tmp_path):
    with pytest.raises(RosterError, match="cannot read roster"):
        read_roster(tmp_path / "nope.csv")


def test_byte_order_mark_of_spreadsheet_exports_is_ignored(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("student_id,section\nada,lab-A\n".encode("utf-8-sig"))
    assert read_roster(path).entries["ada"].class_section == "lab-A"


def test_unknown_and_unlisted_students_are_named():
    roster = parse_roster(["student_id,section", "ada,lab-A", "zed,lab-B"])
    sections, messages = assign_class_sections(roster, ["ada", "dan"])
    assert sections == {"ada": "lab-A", "dan": NOT_ON_ROSTER}
    assert messages == [
        "1 roster student(s) not in the gradebook: zed",
        "1 gradebook student(s) missing from the roster, shown as '(not on roster)': dan",
    ]
