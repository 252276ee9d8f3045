"""The grading kernels' client: ready as soon as the kernel is, without jupyter_client's fixed waits.

jupyter_client's ``wait_for_ready`` asks for ``kernel_info`` until a reply
comes and an IOPub message shows that the IOPub channel is connected, then
waits until IOPub has been quiet for 0.2 s before it returns: time a
grading task spends idle, once per kernel, to drop messages nobody
reads (nbclient, and so the checks, only read messages answering their own
requests). :class:`GradingKernelClient` returns as soon as IOPub is shown
connected, and asks again after 0.05 s, not 0.2 s, when the kernel's first
status was published before the subscription reached it (ZeroMQ's "slow
joiner").
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.utils import ensure_async

#: Seconds to wait for the kernel's status on IOPub before asking again.
IOPUB_RETRY = 0.05
#: Milliseconds between a channel's attempts to connect to a kernel that is still starting.
RECONNECT_INTERVAL_MS = 10


class GradingKernelClient(AsyncKernelClient):
    """An asynchronous kernel client whose ``wait_for_ready`` returns when the kernel is ready."""

    def start_channels(self, *args: Any, **kwargs: Any) -> None:
        # a channel connecting before the kernel has bound its socket retries after ZeroMQ's
        # reconnect interval (100 ms by default): ask again soon, the kernel is a fork away
        self.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_INTERVAL_MS)
        super().start_channels(*args, **kwargs)

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                reply = None
            if reply and reply["msg_type"] == "kernel_info_reply" and await self._iopub_connected():
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel didn't respond to kernel_info before it died")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    async def _iopub_connected(self) -> bool:
        """Whether an IOPub message arrives (the kernel publishes its status for every request)."""
        try:
            await ensure_async(self.iopub_channel.get_msg(timeout=IOPUB_RETRY))
        except Empty:
            return False
        return True

    wait_for_ready = _async_wait_for_ready
