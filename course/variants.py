"""Test the tests: inject catalogued wrong and correct answers, autograde them with nbgrader.

The catalogue (`tests/variants/<notebook>.toml`, never released) lists, per exercise, wrong
implementations (each must lose that exercise's points) and alternative correct ones (each must get
full points). Every other answer cell of the submission holds the reference solution.

To keep the cost down, variants of several exercises share one submission ("round") when the
exercises cannot influence each other: an exercise depends on another when a name the other's answer
cell defines flows (through any cells) into its answer cell or its tests. In every round, the
exercises that carry no variant must still get full marks, which catches an unexpected cascade.

Slow exercises (lesson 4's MNIST training) are declared in the catalogue with a cheap stand-in:
`run(quick=True)` (the CI) leaves their variants out and puts the stand-in in their answer cell,
so every round saves the training; `run()` (`make variantes`) grades everything.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import time
import tomllib
import warnings
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import cellnames, demos, notebooks as nbt
from .grading import gradebook
from .settings import ASSIGNMENT, ROOT
from .workspace import Course, scratch_course

CATALOGUE_DIR = ROOT / "tests" / "variants"
KINDS = ("wrong", "correct")
# the classes of mistakes a wrong variant may stand for (docs/HIDDEN_TESTS.md)
CLASSES = ("rule", "coercion", "tolerance", "boundary")


@dataclass(frozen=True)
class Variant:
    notebook: str
    cell: str
    kind: str
    name: str
    why: str
    code: str
    rule: str = ""     # id of the one stated rule this wrong answer breaks (`[[rule]]`)
    klass: str = ""    # one of CLASSES


@dataclass(frozen=True)
class Rule:
    notebook: str
    cell: str
    id: str
    text: str


@dataclass
class Outcome:
    variant: Variant
    score: float
    max_score: float
    seconds: float
    # the exercise's visible check (`<id>_verificacao`) ran without error on this answer
    passes_visible_check: bool | None = None

    @property
    def ok(self) -> bool:
        if self.variant.kind == "wrong":
            return self.score < self.max_score
        return self.score == self.max_score


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    # problems that are not a variant's verdict: cascades, nbgrader failures, catalogue errors
    problems: list[str] = field(default_factory=list)
    # exercises left out by the quick mode: (notebook, exercise, number of variants not graded)
    skipped: list[tuple[str, str, int]] = field(default_factory=list)
    # per graded submission: every test cell's (score, max score), and how many demo cells autograde
    # left unrun (`course.demos`)
    grades: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    demos_skipped: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    notebooks: dict[str, str] = field(default_factory=dict)  # submission -> its notebook

    @property
    def ok(self) -> bool:
        return not self.problems and all(o.ok for o in self.outcomes)


def _catalogue_data(notebook: str, directory: Path) -> dict:
    path = directory / f"{notebook}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


# the catalogue's keys before they were English (still read, so an old catalogue keeps working)
_OLD_KEYS = {"slow": "lento", "stand_in": "atalho", "why": "por_que"}


def _key(table: dict, key: str):
    return table[key] if key in table else table[_OLD_KEYS[key]]


def load_slow_exercises(notebook: str, directory: Path = CATALOGUE_DIR) -> dict[str, str]:
    """exercise -> stand-in answer, for the exercises the quick mode leaves out (`[slow.<id>]`)."""
    data = _catalogue_data(notebook, directory)
    slow = data.get("slow", data.get(_OLD_KEYS["slow"], {}))
    return {cell: _key(entry, "stand_in") for cell, entry in slow.items()}


def load_catalogue(notebook: str, directory: Path = CATALOGUE_DIR) -> list[Variant]:
    path = directory / f"{notebook}.toml"
    data = _catalogue_data(notebook, directory)
    variants = []
    for entry in data.get("variant", []):
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ValueError(f"{path.name}: variante {entry.get('name')!r} com kind inválido {kind!r}")
        klass = entry.get("class", "")
        if klass and klass not in CLASSES:
            raise ValueError(f"{path.name}: variante {entry.get('name')!r} com class inválida {klass!r}")
        variants.append(Variant(notebook, entry["cell"], kind, entry["name"],
                                entry.get("why", ""), entry["code"], entry.get("rule", ""), klass))
    return variants


def load_rules(notebook: str, directory: Path = CATALOGUE_DIR) -> list[Rule]:
    """The rules each exercise's prompt states (`[[rule]]`), each to be broken by a wrong variant."""
    return [Rule(notebook, e["cell"], e["id"], e["text"])
            for e in _catalogue_data(notebook, directory).get("rule", [])]


# --- dependencies between exercises --------------------------------------------------------------

def exercise_dependencies(source_nb) -> dict[str, set[str]]:
    """exercise -> the other exercises whose answers can change its score."""
    solution_ids = [nbt.grade_id(c) for c in source_nb.cells if nbt.is_solution(c)]
    origin: dict[str, set[str]] = defaultdict(set)
    deps: dict[str, set[str]] = {ex: set() for ex in solution_ids}
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        used, bound = cellnames.names(cellnames.python_of(cell.source))
        flow = set().union(*(origin[u] for u in used)) if used else set()
        gid = nbt.grade_id(cell)
        owner = gid if nbt.is_solution(cell) else (nbt.exercise_of(gid, solution_ids) if gid else None)
        if owner:
            deps[owner] |= flow - {owner}
        if nbt.is_solution(cell):
            flow = flow | {gid}
        for name in bound:
            origin[name] = set(flow)
    # transitive closure
    changed = True
    while changed:
        changed = False
        for ex in deps:
            extra = set().union(*(deps[d] for d in deps[ex])) - deps[ex] - {ex}
            if extra:
                deps[ex] |= extra
                changed = True
    return deps


def plan_rounds(variants: list[Variant], deps: dict[str, set[str]]) -> list[list[Variant]]:
    """Group variants into submissions, one variant per exercise.

    A wrong answer never shares a submission with a variant of an exercise built on it (that
    exercise's verdict would be confounded); a correct answer may, since it leaves what is built
    on it intact — which the same submission checks."""
    def conflict(v: Variant, o: Variant) -> bool:
        return (o.kind == "wrong" and o.cell in deps.get(v.cell, ())) or \
               (v.kind == "wrong" and v.cell in deps.get(o.cell, ()))

    pending: dict[str, list[Variant]] = defaultdict(list)
    for v in variants:
        pending[v.cell].append(v)
    rounds: list[list[Variant]] = []
    while any(pending.values()):
        chosen: list[Variant] = []
        # exercises with the most variants left go first
        for ex in sorted(pending, key=lambda e: -len(pending[e])):
            fits = [v for v in pending[ex] if not any(conflict(v, o) for o in chosen)]
            if fits:
                pending[ex].remove(fits[0])
                chosen.append(fits[0])
        rounds.append(chosen)
    return rounds


# --- running ------------------------------------------------------------------------------------

def _exercise_scores(grades: dict[str, tuple[float, float]], solution_ids: list[str]) -> dict[str, list[float]]:
    totals: dict[str, list[float]] = {ex: [0.0, 0.0] for ex in solution_ids}
    for gid, (score, max_score) in grades.items():
        ex = nbt.exercise_of(gid, solution_ids)
        if ex:
            totals[ex][0] += score
            totals[ex][1] += max_score
    return totals


def _visible_checks_passed(autograded: Path) -> dict[str, bool]:
    """exercise -> whether its visible check cell ran without error, in an autograded notebook."""
    suffix = "_verificacao"
    if not autograded.exists():
        return {}
    return {gid[: -len(suffix)]: not any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            for cell in nbt.read(autograded).cells
            if (gid := nbt.grade_id(cell)) and gid.endswith(suffix)}


def _grade_rounds(course_root: Path, jobs: list[tuple[str, str, list[Variant]]],
                  solution_ids: dict[str, list[str]],
                  dependencies: dict[str, dict[str, set[str]]] | None = None,
                  stand_ins: dict[str, set[str]] | None = None) -> Report:
    """Autograde each planned submission (nbgrader's API, in this process) and judge it.

    `stand_ins`: per notebook, the exercises whose answer is a stand-in (not judged)."""
    report = Report()
    # nbgrader's own SQLAlchemy session warnings (harmless) would flood the output
    warnings.filterwarnings("ignore", message=r"Object of type <Submitted")
    course = Course(course_root)
    api = course.api()
    for student, notebook, chosen in jobs:
        t0 = time.perf_counter()
        result = api.autograde(ASSIGNMENT, student)
        seconds = time.perf_counter() - t0
        grades = gradebook.scores(course, student).get(notebook, {})
        if not result.get("success") or not grades:
            report.problems.append(f"{notebook} {student}: nbgrader autograde falhou\n"
                                   f"{str(result.get('error') or result.get('log'))[-2000:]}")
            continue
        graded = course.autograded_dir(student) / f"{notebook}.ipynb"
        report.grades[student] = dict(grades)
        report.seconds[student] = seconds
        report.notebooks[student] = notebook
        report.demos_skipped[student] = demos.count_skipped(nbt.read(graded)) if graded.exists() else 0
        if chosen is None:  # the untouched student version: recorded, not judged
            print(f"  {student} ({notebook}): versão intocada, {seconds:.1f} s", flush=True)
            continue
        totals = _exercise_scores(grades, solution_ids[notebook])
        by_cell = {v.cell: v for v in chosen}
        visible = _visible_checks_passed(graded)
        for ex, (score, max_score) in totals.items():
            if ex in by_cell:
                report.outcomes.append(Outcome(by_cell[ex], score, max_score, seconds / len(chosen),
                                               visible.get(ex)))
            elif ex in (stand_ins or {}).get(notebook, ()):
                continue
            elif score != max_score and not any(
                    v.kind == "wrong" and v.cell in (dependencies or {}).get(notebook, {}).get(ex, ())
                    for v in chosen):
                # an exercise built on a wrong answer of this round may lose points; any other may not
                names = ", ".join(f"{v.cell}:{v.name}" for v in chosen)
                report.problems.append(
                    f"{notebook} {student}: {ex} (sem variante) perdeu pontos ({score:g}/{max_score:g}) "
                    f"— efeito cascata de [{names}]?")
        print(f"  {student} ({notebook}): {len(chosen)} variante(s), {seconds:.1f} s", flush=True)
    return report


def run(notebooks: list[str] | None = None, jobs: int = 1, catalogue_dir: Path = CATALOGUE_DIR,
        log=print, quick: bool = False, variants_of=None, extra_config: str = "",
        rounds: int | None = None, untouched: bool = False) -> Report:
    """Autograde every catalogued variant of the given notebooks (default: all four).

    quick: leave the slow exercises' variants out and answer them with their stand-in.
    rounds: grade only the first `rounds` planned submissions of each notebook (a quick subset).
    untouched: also grade each notebook's untouched student version (recorded in `grades`, not judged).
    variants_of(notebook, source_nb): other variants to grade instead of the catalogue's (the
    mutants of `course.mutants`); extra_config: appended to the scratch course's nbgrader config."""
    report = Report()
    course = scratch_course(notebooks, extra_config=extra_config)
    try:
        names = notebooks or course.notebook_names()
        course.generate_release()
        solution_ids: dict[str, list[str]] = {}
        dependencies: dict[str, dict[str, set[str]]] = {}
        planned: list[tuple[str, str, list[Variant]]] = []
        stand_ins: dict[str, dict[str, str]] = {}
        for n_index, name in enumerate(names, start=1):
            source_nb = nbt.read(course.source_dir / f"{name}.ipynb")
            solution_ids[name] = [nbt.grade_id(c) for c in source_nb.cells if nbt.is_solution(c)]
            variants = variants_of(name, source_nb) if variants_of else load_catalogue(name, catalogue_dir)
            for v in variants:
                if v.cell not in solution_ids[name]:
                    report.problems.append(f"{name}: variante {v.name!r} aponta para célula inexistente {v.cell!r}")
            for ex in solution_ids[name] if not variants_of else ():
                n_wrong = sum(v.cell == ex and v.kind == "wrong" for v in variants)
                n_right = sum(v.cell == ex and v.kind == "correct" for v in variants)
                if n_wrong < 3 or n_right < 2:
                    report.problems.append(f"{name}: {ex} tem {n_wrong} variantes erradas e {n_right} "
                                           "corretas (mínimo: 3 e 2)")
            variants = [v for v in variants if v.cell in solution_ids[name]]
            stand_ins[name] = load_slow_exercises(name, catalogue_dir) if quick else {}
            for ex in stand_ins[name]:
                left_out = [v for v in variants if v.cell == ex]
                report.skipped.append((name, ex, len(left_out)))
                variants = [v for v in variants if v.cell != ex]
            dependencies[name] = exercise_dependencies(source_nb)
            planned_rounds = plan_rounds(variants, dependencies[name])[:rounds]
            answers = dict(nbt.solution_sources(source_nb), **stand_ins[name])
            student_nb = nbt.read(course.release_dir / f"{name}.ipynb")
            for r_index, chosen in enumerate(planned_rounds, start=1):
                student = f"var{n_index}r{r_index:02d}"
                injected = dict(answers, **{v.cell: v.code for v in chosen})
                course.submit(student, {name: nbt.fill_answers(student_nb, injected)})
                planned.append((student, name, chosen))
            if untouched:
                course.submit(f"var{n_index}vazio", {name: student_nb})
                planned.append((f"var{n_index}vazio", name, None))
            log(f"{name}: {sum(map(len, planned_rounds))} variantes em {len(planned_rounds)} submissões")
        # slowest notebooks first, so parallel workers finish together
        planned.sort(key=lambda job: job[1], reverse=True)
        not_judged = {name: set(cells) for name, cells in stand_ins.items()}
        if jobs <= 1:
            parts = [_grade_rounds(course.root, planned, solution_ids, dependencies, not_judged)]
        else:
            # independent copies of the course (own gradebook), graded in separate processes
            copies = [course] + [_clone(course) for _ in range(jobs - 1)]
            shares = [planned[i::jobs] for i in range(jobs)]
            ctx = multiprocessing.get_context("spawn")
            threads = max(1, (os.cpu_count() or 1) // jobs)
            with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_setup, initargs=(threads,)) as pool:
                parts = list(pool.map(_grade_rounds, [c.root for c in copies], shares,
                                      [solution_ids] * jobs, [dependencies] * jobs, [not_judged] * jobs))
            for extra in copies[1:]:
                shutil.rmtree(extra.root, ignore_errors=True)
        for part in parts:
            report.outcomes.extend(part.outcomes)
            report.problems.extend(part.problems)
            report.grades.update(part.grades)
            report.demos_skipped.update(part.demos_skipped)
            report.seconds.update(part.seconds)
            report.notebooks.update(part.notebooks)
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
    return report


# --- skipping demo cells changes no score (issue 12, item 6) ---------------------------------------

RUN_EVERY_CELL = "c.ProtectedExecute.skip_demo_cells = False\n"


@dataclass
class DemoComparison:
    skipping: Report  # autograde as configured: marked demo cells left unrun
    running: Report  # every cell run (`c.ProtectedExecute.skip_demo_cells = False`)

    @property
    def differences(self) -> list[str]:
        out = []
        for student in sorted(set(self.skipping.grades) | set(self.running.grades)):
            a, b = self.skipping.grades.get(student), self.running.grades.get(student)
            if a is None or b is None:
                out.append(f"{student}: corrigido só {'executando' if a is None else 'pulando'} as demonstrações")
                continue
            for gid in sorted(set(a) | set(b)):
                if a.get(gid) != b.get(gid):
                    out.append(f"{student} {gid}: {a.get(gid)} pulando ≠ {b.get(gid)} executando")
        return out

    @property
    def ok(self) -> bool:
        return (not self.differences and self.skipping.ok and self.running.ok
                and not any(self.running.demos_skipped.values()))

    def table(self) -> str:
        by_notebook: dict[str, list[str]] = defaultdict(list)
        for student in self.skipping.grades:
            by_notebook[self.skipping.notebooks[student]].append(student)
        lines = [f"{'notebook':26s} {'submissões':>10s} {'células puladas':>16s} {'s pulando':>10s} "
                 f"{'s executando':>13s} {'notas iguais':>13s}"]
        for notebook, students in sorted(by_notebook.items()):
            same = sum(self.skipping.grades[s] == self.running.grades.get(s) for s in students)
            lines.append(f"{notebook:26s} {len(students):10d} "
                         f"{sum(self.skipping.demos_skipped[s] for s in students) / len(students):16.1f} "
                         f"{sum(self.skipping.seconds[s] for s in students):10.1f} "
                         f"{sum(self.running.seconds.get(s, 0.0) for s in students):13.1f} "
                         f"{same:>6d}/{len(students):<6d}")
        lines.extend(f"!! {d}" for d in self.differences)
        lines.extend(f"!! pulando: {p}" for p in self.skipping.problems)
        lines.extend(f"!! executando: {p}" for p in self.running.problems)
        lines.extend(f"!! pulando: {o.variant.notebook} {o.variant.cell} [{o.variant.name}] com veredito errado"
                     for o in self.skipping.outcomes if not o.ok)
        if any(self.running.demos_skipped.values()):
            lines.append("!! com skip_demo_cells = False alguma célula foi pulada")
        return "\n".join(lines)


def compare_demo_skipping(notebooks: list[str] | None = None, jobs: int = 1, quick: bool = False,
                          rounds: int | None = None, log=print) -> DemoComparison:
    """Grade the catalogue (and each untouched student version) twice — skipping the marked demo
    cells, as autograde does, and running every cell — so that the scores can be compared."""
    log("== pulando as células de demonstração (como na correção)")
    skipping = run(notebooks, jobs, quick=quick, rounds=rounds, untouched=True, log=log)
    log("== executando todas as células")
    running = run(notebooks, jobs, quick=quick, rounds=rounds, untouched=True, log=log, extra_config=RUN_EVERY_CELL)
    return DemoComparison(skipping, running)


def _worker_setup(threads: int) -> None:
    """Parallel graders split the cores: each kernel's torch/OpenMP uses `threads` of them
    (oversubscribed OpenMP threads spin and make a CPU training many times slower)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(threads))
    # nbgrader's own SQLAlchemy session warnings (harmless) would flood the output
    warnings.filterwarnings("ignore", message=r"Object of type <Submitted")


def _clone(course: Course) -> Course:
    twin = scratch_course([])
    shutil.rmtree(twin.root / "source")
    for part in ("source", "release", "submitted"):
        shutil.copytree(course.root / part, twin.root / part)
    # the same configuration (with any extra settings), pointing at the twin's own folder
    config = (course.root / "nbgrader_config.py").read_text()
    (twin.root / "nbgrader_config.py").write_text(config.replace(repr(str(course.root)), repr(str(twin.root))))
    shutil.copy(course.root / "gradebook.db", twin.root / "gradebook.db")
    return twin


def table(report: Report) -> str:
    """Per exercise: wrong rejected / total, correct accepted / total, seconds."""
    rows: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: {"wrong": [0, 0], "correct": [0, 0], "s": [0.0]})
    for o in report.outcomes:
        row = rows[(o.variant.notebook, o.variant.cell)]
        row[o.variant.kind][0] += o.ok
        row[o.variant.kind][1] += 1
        row["s"][0] += o.seconds
    lines = [f"{'notebook':26s} {'exercício':34s} {'erradas rejeitadas':>19s} {'corretas aceitas':>17s} "
             f"{'segundos':>9s}"]
    tot = {"wrong": [0, 0], "correct": [0, 0]}
    for (notebook, cell), row in sorted(rows.items()):
        w, c = row["wrong"], row["correct"]
        for k in tot:
            tot[k][0] += row[k][0]
            tot[k][1] += row[k][1]
        lines.append(f"{notebook:26s} {cell:34s} {w[0]:>10d}/{w[1]:<8d} {c[0]:>8d}/{c[1]:<8d} {row['s'][0]:9.1f}")
    pct = lambda a, b: f"{100 * a / b:.0f} %" if b else "—"  # noqa: E731
    lines.append(f"{'TOTAL':61s} {pct(*tot['wrong']):>19s} {pct(*tot['correct']):>17s}")
    for o in report.outcomes:
        if not o.ok:
            verb = "ACEITA (deveria perder pontos)" if o.variant.kind == "wrong" else "REJEITADA (deveria ganhar tudo)"
            lines.append(f"!! {o.variant.notebook} {o.variant.cell} [{o.variant.name}] {verb}: "
                         f"{o.score:g}/{o.max_score:g} — {o.variant.why}")
    lines.extend(f"-- {notebook} {ex}: {n} variante(s) fora do modo rápido (rode `make variantes`)"
                 for notebook, ex, n in report.skipped)
    lines.extend(f"!! {p}" for p in report.problems)
    return "\n".join(lines)
