"""Quanto o sandbox custa na correção: segundos por notebook com e sem isolamento.

Uso: COURSE_DATA_DIR=../shared/data .venv/bin/python bench/sandbox_overhead.py [NOTEBOOK ...] [--vezes N]
Corrige a solução de cada notebook N vezes em cada modo (nbgrader autograde, na mesma máquina,
alternando os modos) e imprime a mediana e o custo extra.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time

from course import sandbox
from course.settings import ASSIGNMENT, NOTEBOOKS
from course.workspace import kernel_environment, scratch_course


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", default=["01_pytorch_fundamentals", "02_calculo_dl"])
    parser.add_argument("--vezes", type=int, default=3)
    args = parser.parse_args()
    kernel_environment()
    sandbox.require()
    print(f"{'notebook':28s} {'sem sandbox (s)':>16s} {'com sandbox (s)':>16s} {'custo extra':>12s}")
    for name in args.notebooks:
        assert name in NOTEBOOKS, name
        course = scratch_course([name])
        course.generate_release()
        course.submit("solucao", course.solution_submission())
        api = course.api()
        times: dict[str, list[float]] = {"sem": [], "com": []}
        for _ in range(args.vezes):
            for mode in ("sem", "com"):
                if mode == "sem":
                    os.environ[sandbox.OPT_OUT_VAR] = "1"
                t0 = time.perf_counter()
                result = api.autograde(ASSIGNMENT, "solucao")
                times[mode].append(time.perf_counter() - t0)
                os.environ.pop(sandbox.OPT_OUT_VAR, None)
                assert result["success"], result.get("error")
        sem, com = statistics.median(times["sem"]), statistics.median(times["com"])
        print(f"{name:28s} {sem:16.1f} {com:16.1f} {com - sem:+10.1f} s ({100 * (com - sem) / sem:+.0f} %)")
        shutil.rmtree(course.root, ignore_errors=True)


if __name__ == "__main__":
    main()
