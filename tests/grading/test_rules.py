"""The notebook is the contract both ways: every stated rule has a check, every check a stated rule.

``docs/curriculum.md`` lists the stated rules in a table (id, rule, the checks
that hold it); each hidden check declares the ids it holds. These tests read
both and fail on any rule without a check or check without a rule.
"""

from __future__ import annotations

import re

import pytest

from gradebook_tools.grading.checks import checks_for
from tests.support.course import CURRICULUM_FILE, EXERCISES

_ROW = re.compile(r"^\| `(?P<id>[a-z0-9.-]+)` \| (?P<rule>.+) \| (?P<held>.+) \|$")
_COUNT = re.compile(r"^(\d+) checks \(each declares it\)$")


def stated_rules() -> dict[str, tuple[str, str]]:
    """Rule id -> (the rule as stated, its "held by" column), from the curriculum's table."""
    rules = {}
    for line in CURRICULUM_FILE.read_text().splitlines():
        match = _ROW.match(line)
        if match:
            assert match["id"] not in rules, f"rule {match['id']} is listed twice"
            rules[match["id"]] = (match["rule"], match["held"])
    return rules


def declared_rules() -> dict[str, set[str]]:
    """Rule id -> the checks (``<exercise>/<grade_id>``) that declare it."""
    declared: dict[str, set[str]] = {}
    for exercise in EXERCISES:
        for grade_id, check in checks_for(exercise).items():
            for rule in check.rules:
                declared.setdefault(rule, set()).add(f"{exercise}/{grade_id}")
    return declared


def _exercise_of(rule: str) -> str:
    prefix = rule.split(".", 1)[0]
    [exercise] = [e for e in EXERCISES if e.startswith(prefix + "_")]
    return exercise


def test_the_curriculum_states_rules():
    assert len(stated_rules()) > 3 * len(EXERCISES)


def test_every_stated_rule_is_held_by_a_check():
    declared = declared_rules()
    assert [rule for rule in stated_rules() if rule not in declared] == []


def test_every_rule_a_check_holds_is_stated():
    stated = stated_rules()
    assert sorted(rule for rule in declared_rules() if rule not in stated) == []


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_check_holds_a_stated_rule_of_its_exercise(exercise):
    for grade_id, check in checks_for(exercise).items():
        own = [rule for rule in check.rules if not rule.startswith("common.")]
        assert own, f"{exercise}/{grade_id} declares no rule of its exercise"
        assert all(_exercise_of(rule) == exercise for rule in own), (grade_id, own)


def test_the_table_names_the_checks_that_declare_each_rule():
    declared = declared_rules()
    for rule, (_, held) in stated_rules().items():
        count = _COUNT.match(held)
        if rule.startswith("common."):
            assert count and int(count[1]) == len(declared[rule]), (rule, held)
        else:
            named = {f"{_exercise_of(rule)}/{name}" for name in re.findall(r"`([a-z0-9_]+)`", held)}
            assert named == declared[rule], rule


def test_stability_cells_are_the_cells_whose_rules_say_without_a_warning():
    stated = stated_rules()
    for exercise in EXERCISES:
        for grade_id, check in checks_for(exercise).items():
            says = any("without a warning" in stated[rule][0] for rule in check.rules if not rule.startswith("common."))
            assert check.warnings_fail == says, f"{exercise}/{grade_id}"
            assert ("common.stability-warnings" in check.rules) == check.warnings_fail, f"{exercise}/{grade_id}"
