"""Cost of one grading kernel: start, ``import numpy, matplotlib.pyplot``, shutdown.

Compares :class:`ForkServerKernelManager` (kernels forked from a warm fork
server) with :class:`SandboxedKernelManager` (a new bubblewrap, Python and
ipykernel per kernel), shut down immediately as ``TrustedExecute`` does and,
for reference, gracefully (nbclient's default). Prints CPU-seconds and wall
seconds per kernel, minimum and median over the repeats, and the fork
server's one-off start-up.

CPU is counted with a cgroup v2 ``cpu.stat`` (``usage_usec``): this process
moves itself into a child cgroup it creates under ``/sys/fs/cgroup`` (or
``/sys/fs/cgroup/unified`` on a hybrid set-up), so every process it starts,
bubblewrap and the kernels inside it included, is counted; ``getrusage``
misses processes that their parents never wait for. Without a writable
cgroup v2 hierarchy the script says so and prints wall times only.

Needs root (the kernels run as users of their own). Example::

    sudo .venv/bin/python benchmarks/bench_kernel_start.py --repeats 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gradebook_tools.sandbox.bubblewrap import SandboxedKernelManager  # noqa: E402
from gradebook_tools.sandbox.forkserver import ForkServerKernelManager, shutdown_fork_servers  # noqa: E402

WORK = "import numpy, matplotlib.pyplot"


class CpuCgroup:
    """A child cgroup v2 holding this process (and so all it starts), read through ``cpu.stat``."""

    def __init__(self):
        self.path = None
        self.problem = ""
        for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            if os.path.exists(os.path.join(root, "cgroup.controllers")):
                break
        else:
            self.problem = "no cgroup v2 hierarchy is mounted (looked in /sys/fs/cgroup and /sys/fs/cgroup/unified)"
            return
        own = next(
            line.split("::", 1)[1]
            for line in Path("/proc/self/cgroup").read_text().splitlines()
            if line.startswith("0::")
        )
        self.home = os.path.join(root, own.strip().lstrip("/"))
        path = os.path.join(self.home, f"bench-kernel-start-{os.getpid()}")
        try:
            os.mkdir(path)
            Path(path, "cgroup.procs").write_text(str(os.getpid()))
        except OSError as error:
            self.problem = f"cannot create and enter a cgroup under {self.home}: {error.strerror}"
            if os.path.isdir(path):
                os.rmdir(path)
            return
        self.path = path

    def cpu_seconds(self) -> float:
        for line in Path(self.path, "cpu.stat").read_text().splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
        raise RuntimeError(f"no usage_usec in {self.path}/cpu.stat")

    def close(self) -> None:
        if self.path:
            Path(self.home, "cgroup.procs").write_text(str(os.getpid()))
            for _ in range(50):  # the cgroup empties once the last kernel process is reaped
                try:
                    os.rmdir(self.path)
                    break
                except OSError:
                    time.sleep(0.1)


async def one_kernel(manager_class, folder: str, graceful: bool) -> None:
    manager = manager_class(kernel_name="python3")
    await manager.start_kernel(cwd=folder)
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        reply = await client.execute_interactive(WORK, timeout=120)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{WORK} failed in the kernel: {reply['content']}")
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=not graceful)


def measure(cgroup: CpuCgroup, manager_class, folder: str, graceful: bool, repeats: int):
    cpu, wall = [], []
    for _ in range(repeats):
        cpu_before = cgroup.cpu_seconds() if cgroup.path else 0.0
        started = time.perf_counter()
        asyncio.run(one_kernel(manager_class, folder, graceful))
        wall.append(time.perf_counter() - started)
        if cgroup.path:
            cpu.append(cgroup.cpu_seconds() - cpu_before)
    return cpu, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="kernels per way (default 10)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: sandboxed kernels run as users of their own")
    cgroup = CpuCgroup()
    if cgroup.problem:
        print(f"CPU not measured: {cgroup.problem}; wall times only", file=sys.stderr)
    folder = tempfile.mkdtemp(prefix="bench-kernel-start-")
    Path(folder, "submission.ipynb").write_text("{}")
    rows = []
    # the kernels print ipykernel's banner on the standard output they inherit: keep it out of the figures
    sys.stdout.flush()
    figures = os.fdopen(os.dup(1), "w")
    silent = os.open(os.devnull, os.O_WRONLY)
    os.dup2(silent, 1)
    os.close(silent)
    sys.stdout = figures
    try:
        # the fork server's one-off cost: its first kernel, server start-up included
        first_cpu, first_wall = measure(cgroup, ForkServerKernelManager, folder, False, 1)
        ways = [
            ("fork server (ForkServerKernelManager)", ForkServerKernelManager, False),
            ("bubblewrap per kernel, immediate shutdown", SandboxedKernelManager, False),
            ("bubblewrap per kernel, graceful shutdown", SandboxedKernelManager, True),
        ]
        for label, manager_class, graceful in ways:
            rows.append((label, *measure(cgroup, manager_class, folder, graceful, args.repeats)))
    finally:
        shutdown_fork_servers()
        cgroup.close()
    print(f"one kernel: start + `{WORK}` + shutdown, {args.repeats} repeats each")
    print(f"{'way':<44}{'CPU-s min':>10}{'median':>8}{'wall-s min':>12}{'median':>8}")
    for label, cpu, wall in rows:
        cpu_text = f"{min(cpu):10.3f}{statistics.median(cpu):8.3f}" if cpu else f"{'-':>10}{'-':>8}"
        print(f"{label:<44}{cpu_text}{min(wall):12.3f}{statistics.median(wall):8.3f}")
    cpu_text = f"{first_cpu[0]:.2f} CPU-s, " if first_cpu else ""
    print(f"fork server start-up with its first kernel (once per grading process): {cpu_text}{first_wall[0]:.2f} s")
    if rows[0][1] and rows[1][1]:
        ratio = statistics.median(rows[1][1]) / statistics.median(rows[0][1])
        print(f"the fork server costs {ratio:.1f}x less CPU per kernel than bubblewrap per kernel (medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
