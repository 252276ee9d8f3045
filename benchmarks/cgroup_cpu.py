"""CPU-seconds of a command and everything it starts, counted by a cgroup of its own.

``getrusage`` and ``time`` miss processes inside bubblewrap (they are not waited
for by the command), so the benchmarks run each command in a fresh child cgroup
and read its counter: cgroup v2 ``cpu.stat`` (``usage_usec``) where the unified
hierarchy can be written, else cgroup v1 ``cpuacct.usage``.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

_V2 = Path("/sys/fs/cgroup/unified") if Path("/sys/fs/cgroup/unified/cgroup.procs").exists() else Path("/sys/fs/cgroup")
_V1 = Path("/sys/fs/cgroup/cpuacct")


@dataclass(frozen=True)
class Measurement:
    wall: float  # seconds
    cpu: float  # CPU-seconds of the command and all its descendants


def _new_cgroup() -> tuple[Path, callable]:
    """A fresh cgroup and the function reading its CPU-seconds."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    if (_V2 / "cgroup.procs").exists() and os.access(_V2, os.W_OK):
        folder = _V2 / name
        try:
            folder.mkdir()
            if (folder / "cpu.stat").exists():

                def read() -> float:
                    stats = dict(line.split() for line in (folder / "cpu.stat").read_text().splitlines())
                    return int(stats["usage_usec"]) / 1e6

                return folder, read
            folder.rmdir()
        except OSError:
            pass
    if (_V1 / "cpuacct.usage").exists():
        folder = _V1 / name
        folder.mkdir()
        return folder, lambda: int((folder / "cpuacct.usage").read_text()) / 1e9
    raise RuntimeError("no writable cgroup with a CPU counter: run the benchmark as root on Linux")


def measure(command: list[str], cwd: Path, env: dict | None = None, check_codes=(0,)) -> Measurement:
    """Run ``command`` in its own cgroup; return wall time and CPU-seconds of its whole process tree."""
    folder, read = _new_cgroup()
    procs = folder / "cgroup.procs"

    def enter() -> None:  # in the child, before exec: it and all it starts count here
        procs.write_text("0")

    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, preexec_fn=enter)
    wall = time.perf_counter() - started
    # processes of the tree that outlived the command (none should) would keep the folder busy
    deadline = time.monotonic() + 10
    while procs.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.1)
    cpu = read()
    try:
        folder.rmdir()
    except OSError:
        pass
    if result.returncode not in check_codes:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return Measurement(wall, cpu)
