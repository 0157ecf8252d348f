"""Tempo de execução de cada aula, de cima a baixo, em CPU (nbclient), contra o orçamento do curso.

Uso: COURSE_DATA_DIR=../shared/data .venv/bin/python bench/tempos_notebooks.py [NOTEBOOK ...]
Imprime, por notebook, os segundos das células (sem a partida do kernel) e as três células mais lentas.
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


def main() -> None:
    # o kernel roda numa pasta temporária: o caminho dos dados precisa ser absoluto
    os.environ["COURSE_DATA_DIR"] = str(Path(os.environ.get("COURSE_DATA_DIR", "data")).resolve())
    names = sys.argv[1:] or list(NOTEBOOKS)
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
