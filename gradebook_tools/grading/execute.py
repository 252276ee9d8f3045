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

import numpy as np
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from ..cells import is_graded_test_cell
from . import reference
from .checks import UnknownNotebook, checks_for
from .compare import Verdict, expected_result, judge
from .probe import MAX_REPLY_CHARS, ProbeError, parse_reply, probe_cell_source
from .sandbox import SandboxedKernelManager, require_sandbox_tools
from .spec import Check
from .verdict import render_verdict

_TIMEOUT_ERRORS = {"CellTimeoutError", "KeyboardInterrupt"}


def case_seed(salt: str, assignment: str, notebook: str, student: str, grade_id: str) -> int:
    """A seed for the hidden inputs, different for each student and test cell."""
    text = "\x1f".join((salt, assignment, notebook, student, grade_id))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


class TrustedExecute(Execute):
    """Execute a submission; decide graded test cells in the grader process."""

    check_timeout = Integer(
        20, help="Seconds the student's code may take for all the cases of one hidden check."
    ).tag(config=True)

    seed_salt = Unicode(
        "", help="A course secret mixed into the per-student seeds of the hidden inputs."
    ).tag(config=True)

    sandbox = Bool(
        True,
        help="Run student code in a bubblewrap sandbox (SandboxedKernelManager). Turn off only for trusted code.",
    ).tag(config=True)

    # A flood of output can still be arriving after the cell's reply; that must not
    # fail the whole notebook, so a late IOPub message is logged, not raised.
    raise_on_iopub_timeout = Bool(False, help=Execute.raise_on_iopub_timeout.help).tag(config=True)

    max_output_chars = Integer(
        MAX_REPLY_CHARS, help="Output a cell may produce before the rest is dropped and the cell interrupted."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        if self.sandbox:
            require_sandbox_tools()
        self.kernel_manager_class = SandboxedKernelManager if self.sandbox else AsyncKernelManager
        self._output_chars = {}
        identity = resources["nbgrader"]
        self._identity = (identity["assignment"], identity["notebook"], identity["student"])
        try:
            self._checks = checks_for(identity["notebook"])
        except UnknownNotebook as error:
            self.log.error("%s: its graded test cells will score 0", error)
            self._checks = {}
        self._kernel_lost = ""
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if is_graded_test_cell(cell):
            self._grade_test_cell(cell, index)
            return cell, self.resources
        if self._kernel_lost:
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._kernel_lost = f"the kernel died while running cell {index + 1}"
            self.log.warning("%s: %s", "/".join(self._identity), self._kernel_lost)
            return cell, self.resources

    def output(self, outs, msg, display_id, cell_index):
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
        if check is None:
            self.log.error("no hidden check for test cell %r of %s", grade_id, self._identity[1])
            verdicts = [Verdict("this test cell", False, "the course has no hidden check for it; ask your instructor")]
            cell.outputs = render_verdict(grade_id, verdicts)
        else:
            cell.outputs = render_verdict(check.summary, self._run_check(check, index))
        cell.execution_count = None

    def _run_check(self, check: Check, index: int) -> list[Verdict]:
        rng = np.random.default_rng(case_seed(self.seed_salt, *self._identity, check.grade_id))
        cases = check.make_cases(rng)
        replies, problem = self._ask_kernel(check, cases, index)
        if problem:
            return [Verdict(case.about, False, problem) for case in cases]
        trusted = check.reference or getattr(reference, check.target)
        return [judge(case, expected_result(trusted, case), reply) for case, reply in zip(cases, replies)]

    def _ask_kernel(self, check: Check, cases, index) -> tuple[list[dict], str]:
        """The kernel's replies to the cases, or the reason there are none."""
        if self._kernel_lost:
            return [], f"not checked: {self._kernel_lost}"
        source, marker = probe_cell_source(check.target, check.reads_variable, cases)
        probe = new_code_cell(source)
        original, cell_timeout = self.nb.cells[index], self.timeout
        self.timeout = self.check_timeout
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
