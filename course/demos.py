"""Demo cells that the autograder does not run (issue 12, item 6).

A lesson's demos (the SGD × Adam comparison, the TensorBoard run, the figures) take about half the
time of grading a student and earn no points. The author marks such a cell in the **source** notebook
with the cell tag `pular-na-correcao` (`TAG`); during `nbgrader autograde` only (nbgrader sets
`NBGRADER_EXECUTION=autograde`), `course.execute.ProtectedExecute` leaves it unrun, with a one-line
note as its output. Students, `nbgrader validate`, Colab and the lesson tests run every cell.

What decides, per submission (`skipped`):
- the mark comes from the source notebook, never from the submission's metadata: a cell of the
  submission is a candidate when its source is exactly that of a marked cell of the source notebook
  (a student who edited a demo cell has it run; one who deleted the tag changes nothing);
- an nbgrader cell (answer, test, read-only) is never skipped;
- a candidate is run after all when something it binds is read, before being bound again, by any
  cell that does run in **this** submission (a student's answer that uses a demo's variable keeps
  working): reaching definitions over `course.cellnames.cell_flow`, to a fixed point. A cell the
  student wrote or changed that reaches names dynamically (`globals()`, `eval`, a magic such as
  `%timeit f(x)`) is taken to read every name: every candidate before it runs.

What the name analysis cannot see (a demo that changes an object in place, draws from the global
random generator or writes a file that a later cell reads) is the author's to avoid (docs/AUTHORING.md)
and is proven absent by grading the whole variant catalogue with and without skipping
(`python -m course variantes --comparar-demonstracoes`): every score must be the same.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import notebooks as nbt
from .cellnames import cell_flow

TAG = "pular-na-correcao"
EXECUTION_VAR = "NBGRADER_EXECUTION"  # set by nbgrader: "autograde" while autograding
NOTE = "(demonstração: esta célula não é executada na correção automática e não vale pontos)\n"


def is_marked(cell) -> bool:
    return cell.cell_type == "code" and TAG in cell.get("metadata", {}).get("tags", [])


def _key(source: str) -> str:
    return source.strip()


# what a cell can read names through without naming them
DYNAMIC = frozenset({"globals", "locals", "vars", "eval", "exec", "get_ipython"})


@dataclass(frozen=True)
class Marks:
    """What the source notebook says: its marked code cells, and every code cell it has (verbatim)."""
    marked: frozenset[str]
    known: frozenset[str]

    @classmethod
    def of(cls, source_nb) -> Marks:
        code = [c for c in source_nb.cells if c.cell_type == "code"]
        return cls(frozenset(_key(c.source) for c in code if is_marked(c) and not nbt.nbgrader_meta(c)),
                   frozenset(_key(c.source) for c in code))


def skipped(nb, marks: Marks) -> set[int]:
    """Indices of the cells of `nb` (a submission) that the autograder does not run."""
    flows: dict[int, tuple[set[str], set[str]]] = {}
    candidates: set[int] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        flow = cell_flow(cell.source)
        if flow is None:  # a cell that does not parse reads nobody knows what: nothing before it is skipped
            flows[index] = ({"*"}, set())
            continue
        reads, binds = flow
        if reads & DYNAMIC and _key(cell.source) not in marks.known:  # the student's dynamic lookups
            reads = reads | {"*"}
        flows[index] = (reads, binds)
        if not nbt.nbgrader_meta(cell) and _key(cell.source) in marks.marked:
            candidates.add(index)
    while True:
        needed = set()
        last: dict[str, int] = {}  # name -> the cell that bound it last
        for index, (reads, binds) in flows.items():
            if index not in candidates:
                if "*" in reads:
                    needed |= set(last.values())
                needed |= {last[name] for name in reads if name in last}
            for name in binds:
                last[name] = index
        needed &= candidates
        if not needed:
            return candidates
        candidates -= needed


def problems(source_nb) -> list[str]:
    """Lint: marks that the autograder could not honour in the source notebook itself."""
    out = []
    for cell in source_nb.cells:
        if TAG in cell.get("metadata", {}).get("tags", []):
            if cell.cell_type != "code":
                out.append(f"célula {cell.get('id')}: a etiqueta {TAG!r} só vale para células de código")
            elif nbt.nbgrader_meta(cell):
                out.append(f"célula {cell.get('id')}: uma célula do nbgrader (resposta, teste ou bloqueada) "
                           f"não pode ter a etiqueta {TAG!r}")
            elif cell_flow(cell.source) is None:
                out.append(f"célula {cell.get('id')}: etiqueta {TAG!r} numa célula que não é Python válido")
    runs = skipped(source_nb, Marks.of(source_nb))
    for index, cell in enumerate(source_nb.cells):
        if is_marked(cell) and not nbt.nbgrader_meta(cell) and index not in runs and cell_flow(cell.source):
            out.append(f"célula {cell.get('id')}: marcada com {TAG!r}, mas uma célula executada depois lê o que ela "
                       "define — a correção a executaria de qualquer jeito; tire a etiqueta ou a dependência")
    return out


def count_skipped(nb) -> int:
    """How many cells of a graded notebook autograde left unrun (they carry only `NOTE`)."""
    return sum(1 for c in nb.cells if c.cell_type == "code"
               and [o.get("text") for o in c.get("outputs", [])] == [NOTE])
