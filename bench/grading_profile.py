"""Where the time of grading one student goes, per lesson notebook (prints figures; not a test).

Usage: COURSE_DATA_DIR=../shared/data .venv/bin/python bench/grading_profile.py [NOTEBOOK ...]

Runs each source notebook (the reference solution, as a full-marks student) top to bottom with
nbclient, as `nbgrader autograde` does (without the sandbox and nbgrader's own bookkeeping), and
splits the seconds into: kernel start, the first code cell (imports and setup), demo cells that
autograde skips (marked `pular-na-correcao`, `course.demos`) and those it runs, answer cells, visible
checks, and hidden-test cells (their sum and the slowest one — the contract of docs/HIDDEN_TESTS.md
is ≤ 2 s per test cell, ≤ 5 s for lesson 4's final accuracy test). The last column is what autograde
runs of it: the total without the skipped demos. First line: the CPU an nbgrader process spends
importing itself before grading anything (paid once per student by the grading workers).
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from nbclient import NotebookClient

from course import demos, notebooks as nbt
from course.settings import ASSIGNMENT, NOTEBOOKS, ROOT

PARTS = ("kernel", "setup", "demo skipped", "demo run", "answers", "checks", "hidden tests")


def part_of(cell, first_code: bool, skipped: bool = False) -> str:
    gid = nbt.grade_id(cell) or ""
    if nbt.is_solution(cell):
        return "answers"
    if nbt.is_autograded_test(cell):
        return "hidden tests"
    if gid.endswith("_verificacao"):
        return "checks"
    if first_code:
        return "setup"
    return "demo skipped" if skipped else "demo run"


def profile(name: str) -> tuple[dict[str, float], list[tuple[float, str]]]:
    nb = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
    seconds: dict[str, float] = defaultdict(float)
    tests: list[tuple[float, str]] = []
    skipped = demos.skipped(nb, demos.Marks.of(nb))
    with tempfile.TemporaryDirectory() as tmp:
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}})
        t0 = time.perf_counter()
        with client.setup_kernel():
            seconds["kernel"] = time.perf_counter() - t0
            first = True
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                t0 = time.perf_counter()
                client.execute_cell(cell, index)
                spent = time.perf_counter() - t0
                part = part_of(cell, first, index in skipped)
                first = False
                seconds[part] += spent
                if part == "hidden tests":
                    tests.append((spent, nbt.grade_id(cell)))
    return seconds, tests


def nbgrader_start_cpu(repeats: int = 3) -> float:
    """CPU seconds of a fresh `python -c "import nbgrader.apps.nbgraderapp"` (the best of `repeats`)."""
    best = float("inf")
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", "import nbgrader.apps.nbgraderapp"], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return best


def main() -> None:
    # the kernel runs in a temporary folder: the data path must be absolute
    os.environ["COURSE_DATA_DIR"] = str(Path(os.environ.get("COURSE_DATA_DIR", "data")).resolve())
    names = sys.argv[1:] or list(NOTEBOOKS)
    print(f"processo do nbgrader: {nbgrader_start_cpu():.2f} s de CPU só para importar (uma vez por aluno)")
    print(f"{'notebook':26s} " + " ".join(f"{p:>12s}" for p in PARTS)
          + f" {'total':>8s} {'autograde':>9s}  slowest test cell")
    for name in names:
        seconds, tests = profile(name)
        slowest = max(tests) if tests else (0.0, "—")
        print(f"{name:26s} " + " ".join(f"{seconds[p]:12.1f}" for p in PARTS)
              + f" {sum(seconds.values()):8.1f} {sum(seconds.values()) - seconds['demo skipped']:9.1f}"
              f"  {slowest[1]} ({slowest[0]:.2f} s)")
        print("    test cells: " + ", ".join(f"{gid} {s:.2f} s" for s, gid in tests))


if __name__ == "__main__":
    main()
