"""The repository is self-contained and keeps course data out of git."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.course import REPO

# spelled in pieces so that this file does not reference them itself
OUTSIDE_REFERENCES = ("shared" + "/", "CURRICULUM" + ".md")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True)
    return [REPO / name for name in listed.stdout.split("\0") if name]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError):
        return None  # binary, or deleted in the working tree


def test_no_tracked_file_points_to_the_instructors_shared_folder():
    offenders = []
    for path in tracked_files():
        relative = path.relative_to(REPO)
        text = text_of(path)
        if text is None or relative.parts[0] == "docs":
            continue
        offenders += [f"{relative}: {needle}" for needle in OUTSIDE_REFERENCES if needle in text]
    assert offenders == []


def test_docs_name_no_folder_outside_the_repository():
    for path in sorted((REPO / "docs").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert "shared" + "/" not in text, path.name
        assert "../" not in text, path.name


def test_the_curriculum_is_in_the_repository_with_its_ten_exercises():
    text = (REPO / "docs" / "curriculum.md").read_text(encoding="utf-8")
    assert "This page is the course's contract" in text
    exercises = re.findall(r"^## (ex\d\d_[a-z_]+) ", text, flags=re.MULTILINE)
    assert exercises == sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir())
    assert len(exercises) == 10


def test_relative_links_of_the_readme_and_docs_lead_to_files_of_the_repository():
    tracked = {path.resolve() for path in tracked_files()} | {(REPO / "docs").resolve()}
    broken = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        prose = _CODE.sub("", page.read_text(encoding="utf-8"))  # a link in code is code, not a link
        for target in _MARKDOWN_LINK.findall(prose):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (page.parent / target).resolve()
            if resolved not in tracked and not (resolved.is_dir() and REPO.resolve() in resolved.parents):
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert broken == []


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_the_demo_and_the_instructors_outputs_leave_a_clone_clean(tmp_path):
    """Run the demo in a clone as scripts/demo.sh does, then put every kind of course data in the clone's root."""
    clone = tmp_path / "clone"
    # a clone of the committed repository, plus this working tree's .gitignore (what is being tested)
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)], check=True, timeout=300)
    shutil.copy(REPO / ".gitignore", clone / ".gitignore")
    git("add", ".gitignore", cwd=clone)
    git(
        "-c",
        "user.name=test",
        "-c",
        "user.email=test@example.edu",
        "commit",
        "--quiet",
        "--allow-empty",
        "-m",
        "the .gitignore under test",
        cwd=clone,
    )
    assert git("status", "--porcelain", cwd=clone) == ""

    course = "build/demo-course"
    env = dict(os.environ, PYTHONPATH=str(clone))  # the clone's code throughout, nbgrader's plugins included
    demo = subprocess.run(
        [sys.executable, "-m", "gradebook_tools.cli.demo", course],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradebook_tools",
            "report",
            "--course",
            course,
            "--roster",
            f"{course}/roster.csv",
            "--out",
            f"{course}/reports/sections.html",
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.returncode == 0, report.stderr
    assert (clone / course / "feedback").is_dir() and (clone / course / "gradebook.db").is_file()

    # the same data in the course root itself, where an instructor works
    built = clone / course
    for name in ("gradebook.db", "roster.csv"):
        shutil.copy(built / name, clone / name)
    for folder in ("submitted", "autograded", "feedback"):
        shutil.copytree(built / folder, clone / folder, dirs_exist_ok=True)
    (clone / "exchange" / "alignment-monitoring" / "inbound").mkdir(parents=True)
    (clone / ".nbgrader.log").write_text("log\n")
    tools = [sys.executable, "-m", "gradebook_tools"]
    for argv in (
        ["roster", "import", "roster.csv"],
        ["export", "--format", "canvas", "--to", "canvas.csv"],
        ["export", "--format", "csv", "--to", "grades_by_section.csv"],
        ["export", "--format", "json", "--to", "grades.json"],
        ["report"],
    ):
        result = subprocess.run(tools + argv, cwd=clone, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, (argv, result.stderr)
    nbgrader = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export"], cwd=clone, env=env, capture_output=True, text=True, timeout=600
    )
    assert nbgrader.returncode == 0, nbgrader.stderr
    for written in ("grades.csv", "grades_sections.csv", "canvas.csv", "grades.json", "reports/sections.html"):
        assert (clone / written).is_file(), written

    assert git("status", "--porcelain", "--untracked-files=all", cwd=clone) == ""
    # the notes on what belongs in autograded/ and feedback/ stay tracked and unchanged
    assert git("ls-files", "autograded", "feedback", cwd=clone).split() == [
        "autograded/README.md",
        "feedback/README.md",
    ]
