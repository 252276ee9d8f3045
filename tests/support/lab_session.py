"""Students as separate Unix users, each with a real JupyterLab server (tests/pages/test_student_browser.py).

Everything here runs as root and undoes itself: the users are created with
``useradd -m`` under a name unique to the run and removed with ``userdel -r``;
every server is started in its own session and stopped by its process group.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gradebook_tools.course.nbgrader_run import nbgrader_env
from tests.support.course import REPO, Course

VENV = REPO / ".venv"
SITE_PACKAGES = VENV / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
#: Debian's interpreter of the venv's minor version: same ABI, so it runs the venv's compiled packages.
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
#: What students must not get (docs/course_workflow.md, "Once: set up the machine").
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
INSTRUCTOR_EXTENSIONS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def venv_python_runs_as(user: str) -> bool:
    """Whether ``user`` may run the project's ``.venv/bin/python`` (its interpreter may live in root's home)."""
    return runs_as(user, str(VENV / "bin" / "python"), "-c", "import jupyterlab")


def runs_as(user: str, *command: str) -> bool:
    """Whether ``command`` succeeds as ``user`` (with a bare environment)."""
    bare = {"PATH": "/usr/bin:/bin", "HOME": "/"}
    probe = subprocess.run([RUNUSER, "-u", user, "--", *command], capture_output=True, timeout=60, env=bare)
    return probe.returncode == 0


def student_python(user: str, scratch: Path) -> tuple[Path, Path] | None:
    """The interpreter ``user`` runs JupyterLab with, and the project environment it loads.

    The project's own interpreter where ``user`` may run it; else a prefix of
    Debian's interpreter (:func:`student_prefix`) loading the project's
    environment, or a hard-linked mirror of it in ``scratch`` where ``user``
    cannot reach the project's folder (a clone under ``mktemp -d``, mode 0700).
    None when neither can be had (no Debian interpreter of the venv's version).
    """
    if venv_python_runs_as(user):
        return VENV / "bin" / "python", VENV
    if not SYSTEM_PYTHON.exists():
        return None
    environment = VENV
    if not runs_as(user, "test", "-r", str(SITE_PACKAGES / "jupyterlab" / "__init__.py")):
        environment = mirror_environment(scratch / "project-environment")
    return student_prefix(scratch / "student-python", environment) / "bin" / "python", environment


def mirror_environment(folder: Path) -> Path:
    """The project environment's packages and Jupyter data in ``folder``, readable by every user.

    Hard links where ``folder`` is on the project's file system (nothing is copied
    or changed: the files keep their own modes), a copy elsewhere; only the new
    folders are opened to others.
    """
    for part in (SITE_PACKAGES.relative_to(VENV), Path("share/jupyter"), Path("etc/jupyter")):
        if not (VENV / part).exists():
            continue
        (folder / part).parent.mkdir(parents=True, exist_ok=True)
        linked = subprocess.run(["cp", "-al", str(VENV / part), str(folder / part)], capture_output=True)
        if linked.returncode != 0:
            shutil.rmtree(folder / part, ignore_errors=True)
            run("cp", "-a", str(VENV / part), str(folder / part), timeout=600)
    run("find", str(folder), "-type", "d", "-exec", "chmod", "a+rx", "{}", "+")
    return folder


def student_prefix(folder: Path, environment: Path = VENV) -> Path:
    """A Python prefix that runs the project's environment for users who cannot reach its interpreter.

    ``.venv/bin/python`` links to the interpreter the venv was made with; when
    that one sits in root's home (mode 0700) no other user can start it. This
    prefix is a venv of Debian's interpreter of the same minor version (the
    same ABI) whose site-packages loads ``environment``'s
    (``site.addsitedir``, so its ``.pth`` files count too) and whose
    ``share/jupyter`` and ``etc/jupyter`` are its: nbgrader's lab extension,
    JupyterLab's assets and the enabled server extensions. Nothing of the
    project is copied or changed.
    """
    run(str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(folder))
    packages = environment / SITE_PACKAGES.relative_to(VENV)
    site = folder / "lib" / SITE_PACKAGES.parent.name / "site-packages"
    (site / "project_environment.pth").write_text(f"import site; site.addsitedir({str(packages)!r})\n")
    for part in ("share", "etc"):
        (folder / part).mkdir(exist_ok=True)
        (folder / part / "jupyter").symlink_to(environment / part / "jupyter")
    run("chmod", "-R", "a+rX", str(folder))
    return folder


#: Marks of a test module that makes the students' Unix users (root, useradd and runuser).
STUDENT_USERS = [
    pytest.mark.needs_root("creating the students' Unix users"),
    pytest.mark.skipif(
        shutil.which("useradd") is None or not Path(RUNUSER).exists(),
        reason="useradd and runuser (Debian package passwd, util-linux) are needed",
    ),
]


@dataclass
class Student:
    """A Unix user made for one run, with a JupyterLab server of their own."""

    user: str
    exchange: Path
    course_id: str
    #: the interpreter their JupyterLab and nbgrader run on (see ``student_python``)
    python: Path = Path("/nonexistent")
    home: Path = field(init=False)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = 0
    server: subprocess.Popen | None = None
    log: Path | None = None

    def __post_init__(self) -> None:
        run("useradd", "-m", "-s", "/bin/bash", self.user)
        self.home = Path(os.path.expanduser(f"~{self.user}"))

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "USER": self.user,
            "LOGNAME": self.user,
            "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
            "PATH": f"{self.python.parent}:/usr/local/bin:/usr/bin:/bin:/usr/sbin",
        }

    def nbgrader(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``nbgrader <args>`` as this user, in their home, with their own nbgrader_config.py."""
        return self.run(str(self.python), "-m", "nbgrader", *args, check=check)

    def run(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        """A command as this user, in their home, with only their own environment."""
        result = subprocess.run(
            [RUNUSER, "-u", self.user, "--", *args],
            cwd=self.home,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} as {self.user} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def write_file(self, relative: str, text: str) -> Path:
        """Write a file in this user's home as this user (their ownership, their permissions)."""
        path = self.home / relative
        code = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.stdin.read(), encoding='utf-8')"
        result = subprocess.run(
            [RUNUSER, "-u", self.user, "--", str(self.python), "-c", code, str(path)],
            input=text,
            cwd=self.home,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise AssertionError(f"writing {path} as {self.user} failed:\n{result.stderr}")
        return path

    def configure(self) -> None:
        """The student's nbgrader reads the course and the exchange; the instructor's lab plugins are off."""
        self.write_file(
            "nbgrader_config.py",
            "c = get_config()\n"
            f"c.CourseDirectory.course_id = {self.course_id!r}\n"
            f"c.Exchange.root = {str(self.exchange)!r}\n",
        )
        for extension in INSTRUCTOR_EXTENSIONS:
            self.run(str(self.python), "-m", "jupyterlab.labextensions", "disable", "--level=user", extension)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_lab(self, logs: Path, timeout: float = 180) -> None:
        """Start ``jupyter lab`` as this user in their home and wait until it answers."""
        self.port = free_port()
        self.log = logs / f"jupyterlab-{self.user}.log"
        with self.log.open("wb") as log:
            self.server = subprocess.Popen(
                [
                    RUNUSER,
                    "-u",
                    self.user,
                    "--",
                    str(self.python),
                    "-m",
                    "jupyterlab",
                    "--no-browser",
                    f"--port={self.port}",
                    f"--ServerApp.token={self.token}",
                    "--ServerApp.ip=127.0.0.1",
                    f"--ServerApp.root_dir={self.home}",
                    "--LabApp.news_url=None",
                    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                ],
                cwd=self.home,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_server(self.url, self.token, self.server, self.log, timeout)

    def stop_lab(self, timeout: float = 30) -> None:
        stop(self.server, timeout)
        self.server = None

    def remove(self) -> None:
        """Stop the server, end what is left of this user's processes (by pid), delete the user and home."""
        self.stop_lab()
        for _ in range(10):
            pids = subprocess.run(["pgrep", "-u", self.user], capture_output=True, text=True).stdout.split()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        subprocess.run(["userdel", "-r", self.user], capture_output=True, timeout=60)


def wait_for_server(url: str, token: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as answer:
                if answer.status == 200 and json.load(answer).get("started"):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"jupyter lab did not answer at {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen | None, timeout: float = 30) -> None:
    """End a server started with ``start_new_session``: SIGTERM to its process group, then SIGKILL."""
    if process is None or process.poll() is not None:
        if process is not None:
            process.wait()
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue
    process.wait(timeout=timeout)


@contextlib.contextmanager
def course_server(
    course: Path, log: Path, app: str = "jupyterlab", extra: tuple[str, ...] = ()
) -> Iterator[tuple[str, str]]:
    """A Jupyter server of the course's staff (``app``: ``jupyterlab`` or ``jupyter_server``) in ``course``.

    It runs as this process's user, on 127.0.0.1 with a fresh token, with nbgrader's configuration
    on its path (the formgrader), until the block ends; yields (url, token).
    """
    port, token = free_port(), secrets.token_hex(16)
    lab_only = ("--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    command = [
        str(VENV / "bin" / "python"),
        "-m",
        app,
        "--allow-root",
        "--no-browser",
        f"--port={port}",
        f"--ServerApp.token={token}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={course}",
        *(lab_only if app == "jupyterlab" else ()),
        *extra,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=course, env=nbgrader_env(), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, token, process, log, timeout=180)
        yield url, token
    finally:
        stop(process)


def course_with_exchange(undo: contextlib.ExitStack, prefix: str, exercises: list[str]) -> tuple[Path, Path, Path]:
    """A new folder (removed when ``undo`` closes) holding a course of ``exercises`` and a scratch exchange.

    The exchange is of mode 1777, as docs/course_workflow.md sets it up, and the course's
    ``nbgrader_config.py`` names it; returns (folder, exchange, course).
    """
    base = Path(tempfile.mkdtemp(prefix=prefix))
    undo.callback(shutil.rmtree, base, ignore_errors=True)
    base.chmod(0o755)
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    course = base / "course"
    course.mkdir(mode=0o700)
    Course(course, exercises)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\n# this test's scratch exchange\nc.Exchange.root = {str(exchange)!r}\n")
    return base, exchange, course
