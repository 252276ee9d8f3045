"""A sandboxed kernel and its client, driven from synchronous tests (the sandbox's tests)."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any


class LiveKernel:
    """A kernel started by ``manager_class`` in ``cwd`` (with its limits as traits) and a ready client."""

    def __init__(self, manager_class: type, cwd: Path, **limits: Any):
        self.loop = asyncio.new_event_loop()
        self.manager = manager_class(kernel_name="python3", **limits)
        self.loop.run_until_complete(self.manager.start_kernel(cwd=str(cwd)))
        self.client = self.manager.client()
        self.client.start_channels()
        self.loop.run_until_complete(self.client.wait_for_ready(timeout=60))

    def run(self, code: str, timeout: float = 120) -> str:
        """The code's standard output; an error in the kernel fails the test."""
        return self.result(self.client.execute(textwrap.dedent(code)), timeout)

    def result(self, msg_id: str, timeout: float = 120) -> str:
        """The standard output of the execution ``msg_id``; an error in the kernel fails the test."""
        return self.loop.run_until_complete(self._result(msg_id, timeout))

    async def _result(self, msg_id: str, timeout: float) -> str:
        out = []
        while True:
            message = await self.client.get_iopub_msg(timeout=timeout)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                raise AssertionError(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out).strip()

    def alive(self) -> bool:
        return bool(self.loop.run_until_complete(self.manager.is_alive()))

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.loop.run_until_complete(self.manager.shutdown_kernel(now=True))
        self.loop.close()
