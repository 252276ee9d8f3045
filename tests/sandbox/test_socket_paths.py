"""Where kernels' sockets go: the grader's ``TMPDIR`` when they fit in a socket's address, else ``/tmp``.

The fast half of issue 16's property 1 for deep temporary folders (no kernel:
the choice of folder and the message); ``tests/engine/test_deep_tmpdir.py``
grades real classes with a deep ``TMPDIR``.
"""

from __future__ import annotations

import tempfile

import pytest

from gradebook_tools.sandbox import runtime_folder
from gradebook_tools.sandbox.bubblewrap import RUNTIME_TAIL, SandboxUnavailable, require_socket_path
from gradebook_tools.sandbox.forkserver import BASE_PREFIX, _socket_tail


def test_a_socket_path_fits_up_to_107_bytes():
    assert runtime_folder.socket_fits("/" + "x" * 106)
    assert not runtime_folder.socket_fits("/" + "x" * 107)
    assert not runtime_folder.socket_fits("/" + "é" * 60)  # bytes, not characters


def test_runtime_folders_stay_in_a_tmpdir_where_their_sockets_fit(monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", "/var/tmp/grader")
    assert runtime_folder.socket_root(RUNTIME_TAIL) == "/var/tmp/grader"
    assert runtime_folder.socket_root(_socket_tail(f"{BASE_PREFIX}4194304-")) == "/var/tmp/grader"


def test_a_tmpdir_too_deep_for_a_kernels_sockets_gives_way_to_tmp(monkeypatch):
    deep = "/srv/grading/" + "d" * 40  # 53 bytes: a bubblewrap kernel's sockets fit, a forked kernel's do not
    monkeypatch.setattr(tempfile, "tempdir", deep)
    assert runtime_folder.socket_root(RUNTIME_TAIL) == deep
    assert runtime_folder.socket_root(_socket_tail(f"{BASE_PREFIX}4194304-")) == "/tmp"


def test_with_no_short_folder_the_kernel_start_names_the_cause(monkeypatch, tmp_path):
    deep = "/srv/" + "d" * 145
    monkeypatch.setattr(tempfile, "tempdir", deep)
    monkeypatch.setattr(runtime_folder, "SHORT_ROOTS", (str(tmp_path / "missing"),))
    assert runtime_folder.socket_root(RUNTIME_TAIL) == deep
    ip = f"{deep}/sandboxed-kernel-abcdefgh/kernel"
    with pytest.raises(SandboxUnavailable) as raised:
        require_socket_path(ip)
    assert str(raised.value) == (
        f"cannot make a Unix socket at {ip}-65535: its path takes 189 bytes, more than the 107 a socket's "
        f"address holds, and none of {tmp_path / 'missing'} is a writable folder to use instead; set TMPDIR to a "
        "shorter folder (e.g. /tmp) and grade again"
    )
    assert require_socket_path("/tmp/sandboxed-kernel-abcdefgh/kernel") == "/tmp/sandboxed-kernel-abcdefgh/kernel"
