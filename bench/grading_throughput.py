"""Throughput of grading a class (issue 12): vanilla nbgrader vs. our serial, local-cluster and Dask paths.

Usage: COURSE_DATA_DIR=../shared/data .venv/bin/python bench/grading_throughput.py [--aulas NB ...] [--alunos K]

Builds one synthetic class (reference solutions, untouched student versions and a few wrong answers of
the variant catalogue; at least 8 students) and grades it, each time from the same fresh copy, with:
  (a) vanilla `nbgrader autograde` over the whole class in one process (nbgrader's stock preprocessors,
      no sandbox; only the cell time limit of nbgrader_config.py kept, or lesson 4's training times out);
  (b) `grade_class(workers=1)` (our serial path: normalization, sandbox, retries);
  (c) `grade_class()` with the local default (an embedded LocalCluster, workers from cores and memory);
  (d) `grade_class(cluster=...)` on a Dask scheduler and 2 workers started here as separate processes.
Feedback HTML is off in (b)-(d), as (a) makes none. Prints wall seconds, students/hour, CPU-seconds per
student (the whole machine's busy time, from /proc/stat: run it on an otherwise idle machine), the cores
kept busy on average, the speedup over (a), whether the scores agree with (a), and a projection for
1 000 students on 1, 4 and 16 machines like this one (throughput of (c), times machines).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course import grading, notebooks as nbt, variants
from course.grading import engine, gradebook
from course.settings import ASSIGNMENT, NOTEBOOKS, ROOT
from course.workspace import Course, scratch_course

STOCK_CONFIG = """c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.Execute.timeout = 240
"""


def build_class(parent: Path, notebooks: list[str], students: int) -> Course:
    course = scratch_course(notebooks, parent=parent)
    course.generate_release()
    solution, empty = course.solution_submission(), course.empty_submission()
    wrong = []
    for name in notebooks:
        source = nbt.read(course.source_dir / f"{name}.ipynb")
        answers = nbt.solution_sources(source)
        for v in [v for v in variants.load_catalogue(name) if v.kind == "wrong"][:2]:
            wrong.append((name, nbt.fill_answers(nbt.read(course.release_dir / f"{name}.ipynb"),
                                                 dict(answers, **{v.cell: v.code}))))
    plan = []
    for i in range(students):
        kind = ("solucao", "vazio", "variante", "solucao")[i % 4]
        plan.append((f"{kind}_{i:02d}", kind))
    k = 0
    for student, kind in plan:
        if kind == "solucao":
            course.submit(student, solution)
        elif kind == "vazio":
            course.submit(student, empty)
        else:
            name, nb = wrong[k % len(wrong)]
            k += 1
            course.submit(student, dict(solution, **{name: nb}))
    return course


def copy_of(course: Course, parent: Path, stock: bool = False) -> Course:
    root = Path(tempfile.mkdtemp(prefix="vazao-", dir=parent))
    shutil.copytree(course.root, root, dirs_exist_ok=True)
    config = root / "nbgrader_config.py"
    if stock:
        config.write_text(STOCK_CONFIG.format(root=str(root)))
    else:
        config.write_text(config.read_text().replace(repr(str(course.root)), repr(str(root))))
    return Course(root)


def cpu() -> float:
    """CPU-seconds the whole machine spent busy (/proc/stat; the figures assume nothing else runs)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def totals(course: Course, students: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for student in students:
        out[student] = {nb: round(sum(s for s, _ in g.values()), 6)
                        for nb, g in gradebook.scores(course, student).items()}
    return out


def with_dask_processes(run):
    dask = str(Path(sys.executable).parent / "dask")
    tmp = Path(tempfile.mkdtemp(prefix="vazao-dask-"))
    info = tmp / "agendador.json"
    log = open(tmp / "dask.log", "w")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(info)], cwd=ROOT, stdout=log, stderr=log, env=env)]
    try:
        while not (info.exists() and info.stat().st_size):
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1",
                                       "--no-dashboard", "--memory-limit", "0"], cwd=ROOT, stdout=log, stderr=log,
                                      env=env))
        return run(address)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aulas", nargs="*", default=list(NOTEBOOKS), help="notebooks da turma (padrão: todos)")
    parser.add_argument("--alunos", type=int, default=8, help="alunos na turma (pelo menos 8)")
    parser.add_argument("--modos", default="abcd", help="quais modos rodar (padrão: abcd)")
    args = parser.parse_args()
    os.environ.pop(engine.WORKERS_VAR, None)
    os.environ.pop(engine.CLUSTER_VAR, None)
    parent = Path(tempfile.mkdtemp(prefix="vazao-"))
    try:
        base = build_class(parent, args.aulas, max(8, args.alunos))
        students = sorted(p.name for p in (base.root / "submitted").iterdir())
        print(f"turma: {len(students)} alunos × {len(args.aulas)} notebook(s) ({', '.join(args.aulas)}); "
              f"{engine._cores()} núcleos, {engine._memory_mb() // 1024} GB; padrão local: "
              f"{engine.default_workers(base)} processo(s)", flush=True)
        modes = {
            "a": ("nbgrader autograde (1 processo, padrão)",
                  lambda c: c.nbgrader("autograde", ASSIGNMENT, "--force")),
            "b": ("--workers 1", lambda c: grading.grade_class(c, feedback=False, progress=False, workers=1)),
            "c": ("padrão local (LocalCluster)", lambda c: grading.grade_class(c, feedback=False, progress=False)),
            "d": ("cluster Dask (agendador + 2 trabalhadores)",
                  lambda c: with_dask_processes(lambda addr: grading.grade_class(c, feedback=False, progress=False,
                                                                                 cluster=addr))),
        }
        rows, reference = [], None
        for key in args.modos:
            label, run = modes[key]
            course = copy_of(base, parent, stock=(key == "a"))
            c0, t0 = cpu(), time.perf_counter()
            run(course)
            wall, spent = time.perf_counter() - t0, cpu() - c0
            scores = totals(course, students)
            reference = reference or scores
            rows.append((key, label, wall, spent, scores == reference))
            for student in students:
                if scores[student] != reference[student]:
                    print(f"  notas diferentes de ({args.modos[0]}) para {student}: {scores[student]} ≠ "
                          f"{reference[student]}", flush=True)
            print(f"({key}) {label}: {wall:.1f} s", flush=True)
            shutil.rmtree(course.root, ignore_errors=True)
        base_wall = rows[0][2]
        print(f"\n{'modo':48s} {'s':>7s} {'alunos/h':>9s} {'CPU-s/aluno':>12s} {'núcleos':>8s} {'vs (a)':>7s} "
              "notas=(a)")
        for key, label, wall, spent, same in rows:
            print(f"({key}) {label:44s} {wall:7.1f} {3600 * len(students) / wall:9.1f} "
                  f"{spent / len(students):12.1f} {spent / wall:8.2f} {base_wall / wall:6.2f}× "
                  f"{'sim' if same else 'NÃO'}")
        best = next((r for r in rows if r[0] == "c"), rows[-1])
        per_hour = 3600 * len(students) / best[2]
        print(f"\nprojeção para 1 000 alunos (vazão de ({best[0]}), {per_hour:.0f} alunos/h por máquina, "
              "escala linear):")
        for machines in (1, 4, 16):
            print(f"  {machines:2d} máquina(s): {1000 / (per_hour * machines):6.1f} h")
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
