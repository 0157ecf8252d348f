"""`python -m course verificar NOTEBOOK...`: lint, generate, autograde solution and empty versions."""
from __future__ import annotations

import shutil
import time

from . import lint, notebooks as nbt
from .grading import gradebook
from .settings import ASSIGNMENT, DEMO_EMPTY_STUDENT, DEMO_SOLUTION_STUDENT, ROOT
from .workspace import scratch_course


def check(names: list[str], keep: bool = False) -> bool:
    ok = True
    for name in names:
        problems = lint.lint_source(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
        for p in problems:
            print(f"[lint] {name}: {p}")
        ok &= not problems
    course = scratch_course(names)
    try:
        course.generate_release()
        course.submit(DEMO_SOLUTION_STUDENT, course.solution_submission())
        course.submit(DEMO_EMPTY_STUDENT, course.empty_submission())
        for student in (DEMO_SOLUTION_STUDENT, DEMO_EMPTY_STUDENT):
            t0 = time.perf_counter()
            proc = course.autograde(student)
            took = time.perf_counter() - t0
            print(f"\n== {student}: autograde {took:.1f} s (código {proc.returncode})")
            if proc.returncode:
                print(proc.stderr[-4000:])
                ok = False
            for nb_name, grades in gradebook.scores(course, student).items():
                for gid, (score, max_score) in grades.items():
                    print(f"   {nb_name:28s} {gid:40s} {score:g}/{max_score:g}")
                    expected = max_score if student == DEMO_SOLUTION_STUDENT else 0
                    if score != expected:
                        ok = False
                        print(f"   !! esperado {expected:g}")
            if student == DEMO_SOLUTION_STUDENT:
                for nb_name in names:
                    graded = nbt.read(course.autograded_dir(student) / f"{nb_name}.ipynb")
                    for cell in graded.cells:
                        for out in cell.get("outputs", []):
                            if out.output_type == "error" or (out.output_type == "stream" and out.name == "stderr"):
                                ok = False
                                text = out.get("evalue") or out.get("text", "")
                                print(f"   !! {nb_name} célula {cell.get('id')}: {out.output_type} {str(text)[:300]}")
    finally:
        if keep:
            print(f"\n(pasta mantida: {course.root})")
        else:
            shutil.rmtree(course.root, ignore_errors=True)
    print("\nOK" if ok else "\nFALHOU")
    return ok
