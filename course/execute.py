"""nbgrader's Execute, hardened for grading whole classes.

- Kernels start in the sandbox (course.sandbox) unless it is explicitly turned off.
- A kernel that dies (os._exit, segfault, memory or CPU limit) no longer aborts the notebook: the
  cell gets an error, every later code cell is marked as not run (scoring 0), and the points earned
  before the crash are kept.
- A cell that times out and leaves the kernel unresponsive (it ignored the interrupt) is treated
  the same way, instead of making every later cell wait for its own timeout.
- Output is capped per cell while it arrives, so a flood of prints cannot exhaust the grader's memory.
- During `nbgrader autograde` only, the demo cells marked in the source notebook that no cell run
  after them depends on are not run (`course.demos`; `skip_demo_cells`).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

from . import demos, notebooks as nbt, sandbox

# Error names written into graded notebooks (the report recognises them by these names).
DEAD = "KernelMorto"
NOT_RUN = "CelulaNaoExecutada"
TIMEOUT = "TempoEsgotado"  # set in nbgrader_config.py (c.Execute.error_on_timeout), which runs without course/


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class ProtectedExecute(Execute):

    use_sandbox = Bool(True, help="Roda cada kernel no sandbox do bubblewrap.").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Máximo de bytes de saída guardados por célula.").tag(config=True)
    responsive_after_timeout = Integer(
        15, help="Segundos para o kernel voltar a responder após interromper uma célula.").tag(config=True)
    skip_demo_cells = Bool(
        True, help="Na correção automática (NBGRADER_EXECUTION=autograde), não executa as células de "
                   "demonstração marcadas no notebook fonte com a etiqueta pular-na-correcao das quais "
                   "nenhuma célula executada depois depende (course/demos.py).").tag(config=True)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._sandboxed = self.use_sandbox and not sandbox.opted_out()
        if self.use_sandbox and not self._sandboxed:
            warnings.warn(f"{sandbox.OPT_OUT_VAR}=1: kernels de correção rodam SEM isolamento")

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if self._sandboxed:
            sandbox.use_sandbox(km)  # its kernels start through the course's kernel provisioner
        return km

    def preprocess(self, nb, resources=None, km=None):
        self._stopped = None
        self._skipped = self._demo_cells(nb, resources or {})
        return super().preprocess(nb, resources, km)

    def _demo_cells(self, nb, resources) -> set[int]:
        """The cells of this submission that autograde leaves unrun (none outside autograde)."""
        info = resources.get("nbgrader", {})
        if not self.skip_demo_cells or os.environ.get(demos.EXECUTION_VAR) != "autograde" or not info:
            return set()
        coursedir = CourseDirectory(config=self.config)
        path = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"])) \
            / f"{info['notebook']}.ipynb"
        try:
            marks = demos.Marks.of(nbt.read(path))
        except (OSError, ValueError):  # no source notebook here (or unreadable): every cell runs
            return set()
        return demos.skipped(nb, marks)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if index in getattr(self, "_skipped", ()) and not self._stopped:
            cell.outputs = [new_output("stream", name="stdout", text=demos.NOTE)]
            cell.execution_count = None
            return cell, resources
        if self._stopped:
            cell.outputs = [_error(NOT_RUN, f"não executada: {self._stopped}")]
            return cell, resources
        self._output_bytes = 0
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            why = self._limits_hit() or "saída forçada, falha de segmentação ou limite de memória/CPU"
            self._stopped = f"o kernel morreu numa célula anterior ({why})"
            cell.outputs.append(_error(DEAD, f"o kernel morreu ao executar esta célula ({why})"))
            return cell, resources
        except CellTimeoutError:
            # the kernel did not even go idle after the interrupt
            cell.outputs.append(_error(self.error_on_timeout["ename"], self.error_on_timeout["evalue"]))
            self._stop_stuck_kernel()
            return cell, resources
        timed_out = any(o.output_type == "error" and o.get("ename") == self.error_on_timeout.get("ename")
                        for o in cell.outputs)
        if timed_out and not self._kernel_responds():
            self._stop_stuck_kernel()
        return cell, resources

    def _limits_hit(self) -> str:
        """The sandbox limits this kernel ran into, if the sandbox can tell."""
        box = sandbox.sandbox_of(self.km)
        return ", ".join(box.limit_hits()) if box is not None else ""

    def _stop_stuck_kernel(self) -> None:
        why = self._limits_hit()
        self._stopped = "o kernel ficou travado numa célula anterior e foi encerrado" + (f" ({why})" if why else "")
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - it is being killed anyway
            pass

    def _kernel_responds(self) -> bool:
        """After an interrupted cell: does the kernel answer a kernel_info request in time?"""
        async def ask() -> None:
            await self.kc.kernel_info(reply=True, timeout=self.responsive_after_timeout)

        try:
            run_sync(ask)()
            return True
        except Exception:  # noqa: BLE001 - no reply in time (or no kernel at all)
            return False

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        self._output_bytes = getattr(self, "_output_bytes", 0) + size
        if self._output_bytes > self.max_output_bytes:
            if self._output_bytes - size <= self.max_output_bytes:
                outs.append(new_output("stream", name="stdout",
                                       text="\n... saída excessiva: o restante foi descartado na correção ...\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)
