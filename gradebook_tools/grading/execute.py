"""TrustedExecute: nbgrader's Execute with graded test cells decided by the grader.

Configured in ``nbgrader_config.py`` in place of ``Execute`` in the autograde
chain, so that a plain ``nbgrader autograde`` grades this way. Student cells run
as usual. A graded test cell's own code is not run in the student's kernel:
the grader sends the inputs of the cell's hidden check to the student's
function, reads back plain data and compares it with the reference in this
process. The cell's outputs become the verdict, which nbgrader's
``SaveAutoGrades`` then scores as usual (an error output scores 0).
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import time
from typing import Any

import numpy as np
from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_core.utils import ensure_async
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Type, Unicode, default

from gradebook_tools.course.cells import is_graded_test_cell
from gradebook_tools.grading.checks import UnknownNotebook, checks_for
from gradebook_tools.grading.compare import Verdict, expected_result
from gradebook_tools.grading.decide import decide
from gradebook_tools.grading.mistakes.diagnose import NamedMistake, likely_mistakes
from gradebook_tools.grading.probe import MAX_REPLY_CHARS, ProbeError, parse_reply, probe_cell_source
from gradebook_tools.grading.sanitize import NOTES_KEY
from gradebook_tools.grading.spec import Check
from gradebook_tools.grading.verdict import VERDICT_KEY, render_verdict, verdict_metadata
from gradebook_tools.sandbox.bubblewrap import SandboxedKernelManager
from gradebook_tools.sandbox.choice import kernel_manager_class

_TIMEOUT_ERRORS = {"CellTimeoutError", "KeyboardInterrupt"}
__all__ = ["NOTES_KEY", "TrustedExecute", "case_seed"]  # NOTES_KEY: where TrustedExecute leaves its notes too


def case_seed(salt: str, assignment: str, notebook: str, student: str, grade_id: str) -> int:
    """A seed for the hidden inputs, different for each student and test cell."""
    text = "\x1f".join((salt, assignment, notebook, student, grade_id))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


class TrustedExecute(Execute):
    """Execute a submission; decide graded test cells in the grader process."""

    timeout: int | None  # nbclient's trait (nbgrader's Execute has no type information)

    check_timeout = Integer(20, help="Seconds the student's code may take for all the cases of one hidden check.").tag(
        config=True
    )

    seed_salt = Unicode("", help="A course secret mixed into the per-student seeds of the hidden inputs.").tag(
        config=True
    )

    sandbox = Bool(
        True,
        help="Run student code in a bubblewrap sandbox (SandboxedKernelManager). Turn off only for trusted code.",
    ).tag(config=True)

    sandbox_manager_class = Type(
        SandboxedKernelManager,
        klass=AsyncKernelManager,
        help="Kernel manager of the sandbox, e.g. gradebook_tools.sandbox.forkserver.ForkServerKernelManager.",
    ).tag(config=True)

    # A flood of output can still be arriving after the cell's reply; that must not
    # fail the whole notebook, so a late IOPub message is logged, not raised.
    raise_on_iopub_timeout = Bool(False, help=Execute.raise_on_iopub_timeout.help).tag(config=True)

    max_output_chars = Integer(
        MAX_REPLY_CHARS, help="Output a cell may produce before the rest is dropped and the cell interrupted."
    ).tag(config=True)

    notebook_budget = Integer(
        600,
        help="Wall-clock seconds for the whole notebook: after them the remaining cells are not run and "
        "the remaining hidden checks say so. 0 for no budget.",
    ).tag(config=True)

    @default("shutdown_kernel")
    def _immediate_shutdown(self):
        # a grading kernel is thrown away: a graceful shutdown only costs time
        return "immediate"

    def preprocess(
        self, nb: NotebookNode, resources: Any = None, km: KernelManager | None = None
    ) -> tuple[NotebookNode, dict[str, Any]]:
        self.kernel_manager_class = kernel_manager_class(self.sandbox, self.sandbox_manager_class)
        self._output_chars: dict[str, int] = {}  # characters of output per parent message id
        self._notes = resources.setdefault(NOTES_KEY, [])
        self._deadline = time.monotonic() + self.notebook_budget if self.notebook_budget else None
        self._budget_spent = False
        for cell in nb.cells:  # only the grader writes verdicts
            cell.metadata.pop(VERDICT_KEY, None)
        identity = resources["nbgrader"]
        self._identity = (identity["assignment"], identity["notebook"], identity["student"])
        try:
            self._checks = checks_for(identity["notebook"])
        except UnknownNotebook as error:
            self.log.error("%s: its graded test cells will score 0", error)
            self._checks = {}
        self._kernel_lost = ""
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        """Start the kernel with its standard output and error on ``/dev/null``.

        A kernel otherwise inherits the grader's descriptors: raw bytes it writes
        there (a forged ``[AutogradeApp | INFO]`` line, terminal escapes that set
        the clipboard) would reach the instructor's terminal and nbgrader's log.
        What a cell prints still arrives as its outputs, over the kernel's sockets.
        (Fork-server kernels get the same in the fork server: ``forkserver_child._kernel``.)
        """
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        return await super().async_start_new_kernel(**kwargs)

    # nbclient binds the synchronous form to its own coroutine at class creation
    start_new_kernel = run_sync(async_start_new_kernel)

    def _note(self, sentence: str) -> None:
        if sentence not in self._notes:
            self._notes.append(sentence)
        self.log.warning("%s: %s", "/".join(self._identity), sentence)

    def _remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _out_of_budget(self, margin: float = 0.0) -> bool:
        remaining = self._remaining()
        if remaining is not None and remaining <= margin and not self._budget_spent:
            self._budget_spent = True
            self._note(
                f"the notebook ran out of its time budget of {self.notebook_budget} s: "
                "the cells after that point were not run and their checks scored 0"
            )
        return self._budget_spent

    def _get_timeout(self, cell):
        """A cell's time-out, cut to what is left of the notebook's budget."""
        timeout = super()._get_timeout(cell)
        remaining = self._remaining()
        if remaining is None:
            return timeout
        return max(1, int(min(timeout, remaining) if timeout else remaining))

    async def _async_handle_timeout(self, timeout, cell=None):
        # a time-out that the budget cut short (_get_timeout) spends the budget
        if not self._out_of_budget(margin=1.5):
            self._note(f"a cell ran longer than {timeout} s and was interrupted")
        return await super()._async_handle_timeout(timeout, cell)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if is_graded_test_cell(cell):
            self._grade_test_cell(cell, index)
            return cell, self.resources
        if self._kernel_lost or (cell.cell_type == "code" and self._out_of_budget()):
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._kernel_lost = f"the kernel died while running cell {index + 1}"
            self._note(f"{self._kernel_lost}; what came after it scored 0")
            return cell, self.resources

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        """Keep a cell's output under ``max_output_chars``; interrupt a cell that floods it."""
        parent = msg["parent_header"].get("msg_id")
        size = len(str(msg.get("content", "")))
        used = self._output_chars.get(parent, 0)
        self._output_chars[parent] = used + size
        if used + size <= self.max_output_chars:
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.max_output_chars:
            note = f"\n[output cut: more than {self.max_output_chars} characters; the cell was interrupted]\n"
            outs.append(new_output("stream", name="stdout", text=note))
            asyncio.ensure_future(ensure_async(self.km.interrupt_kernel()))
        return None

    # ------------------------------------------------------------ grading

    def _grade_test_cell(self, cell, index) -> None:
        grade_id = cell.metadata.nbgrader["grade_id"]
        check = self._checks.get(grade_id)
        mistakes: list[NamedMistake] = []
        if check is None:
            self.log.error("no hidden check for test cell %r of %s", grade_id, self._identity[1])
            summary = grade_id
            verdicts = [Verdict("this test cell", False, "the course has no hidden check for it; ask your instructor")]
        else:
            summary, (verdicts, mistakes) = check.summary, self._run_check(check, index)
        cell.outputs = render_verdict(summary, verdicts, mistakes)
        cell.metadata[VERDICT_KEY] = verdict_metadata(summary, verdicts, mistakes)
        cell.execution_count = None

    def _run_check(self, check: Check, index: int) -> tuple[list[Verdict], list[NamedMistake]]:
        """The verdicts on the check's cases, and the catalogued mistakes the failures match."""
        rng = np.random.default_rng(case_seed(self.seed_salt, *self._identity, check.grade_id))
        cases = check.make_cases(rng)
        replies, problem = self._ask_kernel(check, cases, index)
        if problem:
            return [Verdict(case.about, False, problem) for case in cases], []
        trusted = check.reference  # the reference function named like the target: spec.Check
        verdicts = [
            decide(check, case, expected_result(trusted, case), reply)
            for case, reply in zip(cases, replies, strict=True)
        ]
        # the catalogue runs here, in the grader's process, on the same inputs
        return verdicts, likely_mistakes(self._identity[1], check, cases, replies, verdicts)

    def _ask_kernel(self, check: Check, cases, index) -> tuple[list[dict], str]:
        """The kernel's replies to the cases, or the reason there are none."""
        if self._kernel_lost:
            return [], f"not checked: {self._kernel_lost}"
        if self._out_of_budget():
            return [], f"not checked: the notebook's time budget of {self.notebook_budget} s ran out"
        source, marker = probe_cell_source(check.target, check.reads_variable, cases)
        probe = new_code_cell(source)
        original, cell_timeout = self.nb.cells[index], self.timeout
        remaining = self._remaining()
        self.timeout = self.check_timeout if remaining is None else max(1, int(min(self.check_timeout, remaining)))
        try:
            self.execute_cell(probe, index, store_history=False)
        except DeadKernelError:
            self._kernel_lost = f"the kernel died while checking {check.target}"
            return [], f"not checked: {self._kernel_lost}"
        finally:
            self.timeout = cell_timeout
            self.nb.cells[index] = original  # execute_cell stores the probe in its place
        errors = {output.get("ename") for output in probe.outputs if output.output_type == "error"}
        if errors & _TIMEOUT_ERRORS:
            return [], f"timed out: {check.target} did not return within {self.check_timeout} s"
        stdout = "".join(o.text for o in probe.outputs if o.output_type == "stream" and o.name == "stdout")
        try:
            return parse_reply(stdout, marker, len(cases)), ""
        except ProbeError as error:
            return [], str(error)
