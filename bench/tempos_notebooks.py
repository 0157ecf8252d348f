"""Time of each lesson: the student's (estimated) and the machine's (measured).

Usage: COURSE_DATA_DIR=../shared/data .venv/bin/python bench/tempos_notebooks.py [--so-estimativa] [NOTEBOOK ...]

1. Student time, by the model of `course/student_time.py` (prose at 130 words/min, 0.4 min per
   code cell to run and read, 3 min + 0.8 min per written line per exercise): minutes of the core
   path and of the `(opcional)` sections, next to the lesson's duration on the module page.
2. Unless `--so-estimativa`: each source notebook run top to bottom on CPU (nbclient), seconds of its
   cells (kernel start excluded) against the grading budget, and its three slowest cells.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient

from course import notebooks as nbt
from course.settings import ASSIGNMENT, NOTEBOOKS
from course.student_time import estimate

ROOT = Path(__file__).resolve().parent.parent

# orçamento (s, 2 núcleos de CPU): aulas 1–3 até 1 min, aula 4 até 3 min
BUDGET = {"01_pytorch_fundamentals": 60, "02_calculo_dl": 60, "03_perceptron_redes": 60,
          "04_mlp_implementacao": 180}
TOP = 3  # quantas das células mais lentas mostrar


class TimedClient(NotebookClient):
    """Anota quanto cada célula levou."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.cell_seconds: list[tuple[float, int]] = []

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        t0 = time.perf_counter()
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        self.cell_seconds.append((time.perf_counter() - t0, cell_index))
        return result


def student_minutes(names: list[str]) -> None:
    print(f"{'aula':26s} {'duração':>8s} {'essencial':>10s} {'opcional':>9s}  situação  seções opcionais")
    for name in names:
        est = estimate(nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb"))
        verdict = "cabe" if est.core <= NOTEBOOKS[name] else f"+{est.core - NOTEBOOKS[name]:.0f} min"
        sections = "; ".join(est.optional_sections) or "—"
        print(f"{name:26s} {NOTEBOOKS[name]:>4d} min {est.core:>6.0f} min {est.optional:>5.0f} min  "
              f"{verdict:8s}  {sections}")


def main() -> None:
    args = sys.argv[1:]
    only_estimate = "--so-estimativa" in args
    names = [a for a in args if not a.startswith("--")] or list(NOTEBOOKS)
    print("Tempo do aluno (estimado; modelo em course/student_time.py):")
    student_minutes(names)
    if only_estimate:
        return
    # o kernel roda numa pasta temporária: o caminho dos dados precisa ser absoluto
    os.environ["COURSE_DATA_DIR"] = str(Path(os.environ.get("COURSE_DATA_DIR", "data")).resolve())
    print("\nTempo da máquina (medido, 2 núcleos de CPU):")
    print(f"{'notebook':26s} {'células (s)':>12s} {'orçamento':>10s}  células mais lentas")
    for name in names:
        nb = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
        with tempfile.TemporaryDirectory() as tmp:
            client = TimedClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}})
            client.execute()
        total = sum(s for s, _ in client.cell_seconds)
        slowest = sorted(client.cell_seconds, reverse=True)[:TOP]
        labels = ", ".join(f"{nbt.grade_id(nb.cells[i]) or nb.cells[i].get('id')} ({s:.1f} s)" for s, i in slowest)
        print(f"{name:26s} {total:12.1f} {BUDGET[name]:>10d}  {labels}")


if __name__ == "__main__":
    main()
