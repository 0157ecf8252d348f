"""Mutation testing of the hidden tests: small faults planted in every reference solution.

Each mutant changes one thing in the code between `### BEGIN SOLUTION` and `### END SOLUTION` of an
answer cell (an operator, a constant, an argument, a call, a statement) and is judged like a wrong
variant of the catalogue: it must lose its exercise's points. Two ways to judge:

- `run()` injects the mutants as students' answers through the same path as `make variantes`
  (`course.variants`: rounds of independent exercises, nbgrader autograde in a sandbox) — the
  figures of `make mutantes`;
- `screen()` (`--triagem`) runs the source notebook once in one IPython process and, at each
  exercise's test cells, runs every mutant of that exercise's answer followed by its test cells
  (a cell that raises or writes to stderr loses its points, as in nbgrader). It is the author's
  fast loop; both verdicts agree on the sample that `tests/test_mutants.py` checks.

A surviving mutant is killed by a better test or recorded in the catalogue as equivalent
(`[[equivalent]]` with `cell`, `mutant` — the id printed here — and `why`).

No mutation library targets a notebook cell (mutmut and cosmic-ray mutate files of a package and
run its test command; mutatest mutates the bytecode of imported modules), so this is a small AST
mutator: `ast.unparse` of the mutated tree replaces the answer cell.
"""
from __future__ import annotations

import ast
import contextlib
import copy
import hashlib
import io
import multiprocessing
import os
import re
import signal
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import notebooks as nbt
from .settings import ASSIGNMENT, ROOT

CATALOGUE_DIR = ROOT / "tests" / "variants"
TARGET = 0.95  # share of the non-equivalent mutants each exercise's tests must kill

_BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult}
_COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                  ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
                  ast.In: ast.NotIn, ast.NotIn: ast.In}
# method calls that a forgetful student drops: `x.clone()` -> `x`
_DROPPABLE_METHODS = {"clone", "copy", "detach", "contiguous", "float", "double", "long", "to", "cpu",
                      "eval", "train", "item", "t", "reshape", "view", "flatten", "squeeze", "unsqueeze",
                      "numpy", "tolist", "mean", "sum", "abs", "sqrt", "exp", "log"}
_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION", re.M)


@dataclass(frozen=True)
class Mutant:
    notebook: str
    cell: str
    id: str            # "<operator>:<hash of the mutated code>", stable across unrelated edits
    operator: str
    description: str   # "linha 7: `<` → `<=`"
    code: str          # the whole answer cell, mutated


# --- generating mutants ---------------------------------------------------------------------------

def solution_lines(source: str) -> set[int]:
    """The line numbers (1-based) strictly inside the cell's BEGIN/END SOLUTION blocks."""
    marks = [source[:m.start()].count("\n") + 1 for m in _MARKER.finditer(source)]
    if not marks or len(marks) % 2:
        raise ValueError("a célula de resposta precisa de blocos BEGIN/END SOLUTION completos")
    return {line for begin, end in zip(marks[::2], marks[1::2]) for line in range(begin + 1, end)}


def _short(node: ast.AST, limit: int = 70) -> str:
    text = ast.unparse(node).replace("\n", "; ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _candidates(tree: ast.Module, lines: set[int]):
    """(index in ast.walk order, operator, how) for every mutation point inside the solution."""
    nodes = list(ast.walk(tree))
    for i, node in enumerate(nodes):
        line = getattr(node, "lineno", None)
        inside = line in lines
        if inside and isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP_SWAPS:
            yield i, "binop", None
        if inside and isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in _COMPARE_SWAPS:
                    yield i, "compare", k
        if inside and isinstance(node, ast.BoolOp):
            yield i, "boolop", None
        if inside and isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            yield i, "unary", None
        if inside and isinstance(node, ast.Constant) and not isinstance(node.value, str):
            if isinstance(node.value, bool):
                yield i, "const", "not"
            elif isinstance(node.value, int):
                yield i, "const", "+1"
                yield i, "const", "-1"
            elif isinstance(node.value, float):
                yield i, "const", "x2"
        if inside and isinstance(node, ast.Call):
            if len([a for a in node.args if not isinstance(a, ast.Starred)]) >= 2 and \
                    ast.unparse(node.args[0]) != ast.unparse(node.args[1]):
                yield i, "swap_args", None
            for k, kw in enumerate(node.keywords):
                if kw.arg is not None:
                    yield i, "drop_kwarg", k
            if isinstance(node.func, ast.Attribute) and node.func.attr in _DROPPABLE_METHODS:
                yield i, "drop_call", None
            if isinstance(node.func, ast.Name) and node.func.id == "range" and len(node.args) == 1:
                yield i, "range", "+1"
                yield i, "range", "-1"
        # statements are removed through their parent's list (the parent's own line may lie outside)
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if not isinstance(body, list):
                continue
            for k, stmt in enumerate(body):
                if not isinstance(stmt, ast.stmt) or stmt.lineno not in lines:
                    continue
                if isinstance(stmt, (ast.Pass, ast.Import, ast.ImportFrom)):
                    continue
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    continue  # a docstring
                yield i, "drop_stmt", (name, k)


def _apply(tree: ast.Module, index: int, operator: str, how) -> str:
    """Mutate node `index` (ast.walk order) of `tree` in place; return a description."""
    node = list(ast.walk(tree))[index]
    before = _short(node)
    if operator == "binop":
        node.op = _BINOP_SWAPS[type(node.op)]()
    elif operator == "compare":
        node.ops[how] = _COMPARE_SWAPS[type(node.ops[how])]()
    elif operator == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif operator == "unary":
        return _replace(tree, node, node.operand, before)
    elif operator == "const":
        value = node.value
        node.value = (not value) if how == "not" else value + 1 if how == "+1" else value - 1 if how == "-1" \
            else (value * 2 if value else 1.0)
    elif operator == "swap_args":
        node.args[0], node.args[1] = node.args[1], node.args[0]
    elif operator == "drop_kwarg":
        del node.keywords[how]
    elif operator == "drop_call":
        return _replace(tree, node, node.func.value, before)
    elif operator == "range":
        node.args[0] = ast.BinOp(node.args[0], ast.Add() if how == "+1" else ast.Sub(), ast.Constant(1))
    elif operator == "drop_stmt":
        name, k = how
        body = getattr(node, name)
        removed = body.pop(k)
        if not body:
            body.append(ast.Pass())
        return f"linha {removed.lineno}: remove `{_short(removed)}`"
    return f"linha {node.lineno}: `{before}` → `{_short(node)}`"


def _replace(tree: ast.Module, old: ast.AST, new: ast.AST, before: str) -> str:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if item is old:
                        value[k] = new
    return f"linha {old.lineno}: `{before}` → `{_short(new)}`"


def mutants_of(source: str, notebook: str = "", cell: str = "") -> list[Mutant]:
    """Every distinct, compilable mutant of an answer cell's solution block."""
    lines = solution_lines(source)
    tree = ast.parse(source)
    original = ast.unparse(tree)
    seen = {original}
    found = []
    for index, operator, how in _candidates(tree, lines):
        twin = copy.deepcopy(tree)
        description = _apply(twin, index, operator, how)
        code = ast.unparse(ast.fix_missing_locations(twin))
        if code in seen:
            continue
        seen.add(code)
        try:
            compile(code, "<mutante>", "exec")
        except SyntaxError:
            continue
        digest = hashlib.sha1(code.encode()).hexdigest()[:8]
        found.append(Mutant(notebook, cell, f"{operator}:{digest}", operator, description, code + "\n"))
    return found


def notebook_mutants(name: str, source_dir: Path | None = None) -> list[Mutant]:
    source_nb = nbt.read((source_dir or ROOT / "source" / ASSIGNMENT) / f"{name}.ipynb")
    return [m for c in source_nb.cells if nbt.is_solution(c)
            for m in mutants_of(c.source, name, nbt.grade_id(c))]


def load_equivalents(name: str, directory: Path = CATALOGUE_DIR) -> dict[tuple[str, str], str]:
    """(cell, mutant id) -> why it is equivalent, from the catalogue's `[[equivalent]]` entries."""
    import tomllib

    path = directory / f"{name}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {(e["cell"], e["mutant"]): e.get("why", "") for e in data.get("equivalent", [])}


def sample(mutants: list[Mutant], every: int) -> list[Mutant]:
    """A deterministic 1-in-`every` sample per exercise (by id), for the quick checks."""
    by_cell: dict[str, list[Mutant]] = defaultdict(list)
    for m in mutants:
        by_cell[m.cell].append(m)
    return [m for cell in by_cell for m in sorted(by_cell[cell], key=lambda m: m.id)[::every]]


# --- verdicts -------------------------------------------------------------------------------------

@dataclass
class Verdict:
    mutant: Mutant
    killed: bool
    seconds: float
    detail: str = ""   # how it was killed (first error line), for the author


@dataclass
class Report:
    verdicts: list[Verdict] = field(default_factory=list)
    equivalents: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)  # notebook -> ...
    problems: list[str] = field(default_factory=list)
    # every mutant the solutions yield now (sampled or not): (notebook, cell, id)
    generated: set[tuple[str, str, str]] = field(default_factory=set)

    def rows(self):
        """(notebook, cell, killed, total non-equivalent, equivalent, seconds, survivors)."""
        groups: dict[tuple[str, str], list[Verdict]] = defaultdict(list)
        for v in self.verdicts:
            groups[(v.mutant.notebook, v.mutant.cell)].append(v)
        for (notebook, cell), verdicts in sorted(groups.items()):
            equivalent = self.equivalents.get(notebook, {})
            judged = [v for v in verdicts if (cell, v.mutant.id) not in equivalent]
            survivors = [v for v in judged if not v.killed]
            yield (notebook, cell, len(judged) - len(survivors), len(judged), len(verdicts) - len(judged),
                   sum(v.seconds for v in verdicts), survivors)

    def stale_equivalents(self) -> list[str]:
        """Equivalents recorded for mutants that no longer exist (the solution changed)."""
        present = self.generated or {(v.mutant.notebook, v.mutant.cell, v.mutant.id) for v in self.verdicts}
        graded_cells = {(v.mutant.notebook, v.mutant.cell) for v in self.verdicts}
        return [f"{nb} {cell} {mid}" for nb, eq in self.equivalents.items() for (cell, mid) in eq
                if (nb, cell) in graded_cells and (nb, cell, mid) not in present]

    @property
    def ok(self) -> bool:
        return not self.problems and all(total == 0 or killed / total >= TARGET
                                         for _, _, killed, total, _, _, _ in self.rows())


def table(report: Report) -> str:
    lines = [f"{'notebook':26s} {'exercício':34s} {'mortos/total':>13s} {'%':>6s} {'equiv.':>6s} {'segundos':>9s}"]
    for notebook, cell, killed, total, equivalent, seconds, _ in report.rows():
        pct = f"{100 * killed / total:.0f}" if total else "—"
        lines.append(f"{notebook:26s} {cell:34s} {killed:>6d}/{total:<6d} {pct:>6s} {equivalent:>6d} {seconds:9.1f}")
    for *_, survivors in report.rows():
        for v in survivors:
            lines.append(f"!! sobreviveu {v.mutant.notebook} {v.mutant.cell} [{v.mutant.id}] {v.mutant.description}")
    lines.extend(f"-- equivalente sem mutante (solução mudou?): {s}" for s in report.stale_equivalents())
    lines.extend(f"!! {p}" for p in report.problems)
    lines.append(f"meta: ≥ {TARGET:.0%} dos mutantes não equivalentes mortos em cada exercício — "
                 + ("atingida" if report.ok else "NÃO atingida"))
    return "\n".join(lines)


# --- judging through nbgrader (the path of `make variantes`) --------------------------------------

# a mutant that loops forever costs its cell this many seconds, not the course's 240
MUTANT_CELL_TIMEOUT = 60


def run(notebooks: list[str] | None = None, jobs: int = 1, quick: bool = False, every: int = 1,
        catalogue_dir: Path = CATALOGUE_DIR, log=print) -> Report:
    """Autograde every mutant (or a 1-in-`every` sample) as a wrong answer, like `make variantes`."""
    from . import variants
    from .settings import NOTEBOOKS

    names = notebooks or list(NOTEBOOKS)
    chosen: dict[tuple[str, str, str], Mutant] = {}

    def variants_of(name: str, source_nb) -> list:
        found = sample([m for c in source_nb.cells if nbt.is_solution(c)
                        for m in mutants_of(c.source, name, nbt.grade_id(c))], every)
        for m in found:
            chosen[(name, m.cell, m.id)] = m
        return [variants.Variant(name, m.cell, "wrong", m.id, m.description, m.code) for m in found]

    outcome = variants.run(names, jobs=jobs, catalogue_dir=catalogue_dir, log=log, quick=quick,
                           variants_of=variants_of,
                           extra_config=f"c.Execute.timeout = {MUTANT_CELL_TIMEOUT}\n")
    report = Report(problems=list(outcome.problems),
                    equivalents={n: load_equivalents(n, catalogue_dir) for n in names},
                    generated={(m.notebook, m.cell, m.id) for n in names for m in notebook_mutants(n)})
    for o in outcome.outcomes:
        m = chosen[(o.variant.notebook, o.variant.cell, o.variant.name)]
        report.verdicts.append(Verdict(m, o.score < o.max_score, o.seconds, f"{o.score:g}/{o.max_score:g}"))
    return report


# --- the fast screen: one IPython process per notebook --------------------------------------------

# what nbgrader's IgnorePattern (nbgrader_config.py) strips from stderr before scoring
_IGNORED_STDERR = re.compile(r"(?i)warning|\d+%\|.*\|")


class _MutantTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _MutantTimeout("o mutante passou do tempo limite")


def _run_cell(shell, source: str, timeout: float | None = None) -> str | None:
    """Run one cell; None if it would keep its points in nbgrader, else why it loses them."""
    out, err = io.StringIO(), io.StringIO()
    if timeout:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = shell.run_cell(source, store_history=False, silent=False)
    finally:
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
    failure = result.error_in_exec or result.error_before_exec
    if failure is not None:
        return f"{type(failure).__name__}: {str(failure).splitlines()[0] if str(failure) else ''}"[:200]
    noise = [ln for ln in err.getvalue().splitlines() if ln.strip() and not _IGNORED_STDERR.search(ln)]
    return f"stderr: {noise[0][:150]}" if noise else None


# the slow exercises (the MNIST training) get this long per cell in the screen
SLOW_CELL_TIMEOUT = 300


def _screen_notebook(name: str, source_dir: str, mutant_ids: list[str] | None, timeout: float,
                     threads: int, slow: tuple[str, ...] = ()) -> tuple[list[tuple[str, str, bool, float, str]],
                                                                        list[str]]:
    """In a fresh process: run the notebook, and each exercise's mutants at its test cells."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(threads))
    os.environ.setdefault("MPLBACKEND", "Agg")
    from IPython.core.interactiveshell import InteractiveShell

    source_nb = nbt.read(Path(source_dir) / f"{name}.ipynb")
    solution_ids = [nbt.grade_id(c) for c in source_nb.cells if nbt.is_solution(c)]
    answers = {nbt.grade_id(c): c.source for c in source_nb.cells if nbt.is_solution(c)}
    tests: dict[str, list[str]] = defaultdict(list)
    for c in source_nb.cells:
        if nbt.is_autograded_test(c):
            tests[nbt.exercise_of(nbt.grade_id(c), solution_ids)].append(nbt.grade_id(c))
    results, problems = [], []
    workdir = tempfile.mkdtemp(prefix="triagem-")
    os.chdir(workdir)
    shell = InteractiveShell.instance()
    by_id = nbt.cells_by_grade_id(source_nb)
    before_answer: dict[str, dict] = {}  # exercise -> the namespace just before its answer cell ran
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        gid = nbt.grade_id(cell)
        if nbt.is_solution(cell):
            before_answer[gid] = dict(shell.user_ns)
        why = _run_cell(shell, cell.source)
        if why and nbt.is_autograded_test(cell):
            problems.append(f"{name} {gid}: a solução de referência perde os pontos ({why})")
        exercise = nbt.exercise_of(gid, solution_ids) if gid and nbt.is_autograded_test(cell) else None
        # judge the exercise's mutants once, at its last test cell
        if not exercise or gid != tests[exercise][-1]:
            continue
        limit = max(timeout, SLOW_CELL_TIMEOUT) if exercise in slow else timeout
        after_tests = dict(shell.user_ns)
        for m in mutants_of(answers[exercise], name, exercise):
            if mutant_ids is not None and m.id not in mutant_ids:
                continue
            t0 = time.perf_counter()
            # as in nbgrader, the mutant sees only what the cells above its answer defined (nothing the
            # reference answer bound: a statement the mutant drops must not be filled in by the reference's)
            _restore(shell, before_answer[exercise])
            killed_by = _run_cell(shell, m.code, limit)
            if killed_by is None:
                for test_id in tests[exercise]:
                    killed_by = _run_cell(shell, by_id[test_id].source, limit)
                    if killed_by:
                        break
            results.append((m.cell, m.id, killed_by is not None, time.perf_counter() - t0, killed_by or ""))
        _restore(shell, after_tests)  # back to the reference's state for what follows
    return results, problems


def _restore(shell, namespace: dict) -> None:
    shell.user_ns.clear()
    shell.user_ns.update(namespace)


def screen(notebooks: list[str] | None = None, jobs: int = 1, every: int = 1, timeout: float = 30,
           quick: bool = False, source_dir: Path | None = None, catalogue_dir: Path = CATALOGUE_DIR,
           log=print) -> Report:
    """The fast screen (`--triagem`): every notebook in its own process, `jobs` at a time.

    quick: leave out the mutants of the slow exercises the catalogue declares (MNIST training)."""
    from concurrent.futures import ProcessPoolExecutor

    from .settings import NOTEBOOKS
    from .variants import load_slow_exercises

    names = notebooks or list(NOTEBOOKS)
    source_dir = source_dir or ROOT / "source" / ASSIGNMENT
    planned = {n: notebook_mutants(n, source_dir) for n in names}
    if quick:
        planned = {n: [m for m in ms if m.cell not in load_slow_exercises(n, catalogue_dir)]
                   for n, ms in planned.items()}
    chosen = {n: sample(ms, every) for n, ms in planned.items()}
    report = Report(equivalents={n: load_equivalents(n, catalogue_dir) for n in names},
                    generated={(m.notebook, m.cell, m.id) for n in names for m in notebook_mutants(n, source_dir)})
    threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max(1, jobs), mp_context=ctx) as pool:
        futures = {n: pool.submit(_screen_notebook, n, str(source_dir), [m.id for m in chosen[n]], timeout,
                                  threads, tuple(load_slow_exercises(n, catalogue_dir)))
                   for n in names}
        for n, future in futures.items():
            results, problems = future.result()
            known = {(m.cell, m.id): m for m in chosen[n]}
            report.problems.extend(problems)
            for cell, mid, killed, seconds, detail in results:
                report.verdicts.append(Verdict(known[(cell, mid)], killed, seconds, detail))
            log(f"{n}: {len(results)} mutantes triados")
    return report
