"""Which global names a notebook cell reads and binds (scope-aware, IPython magics included).

Two users: `course.variants` (which exercises can change another's score) and `course.demos`
(which demo cells no executed cell depends on). Names local to a function, lambda or comprehension
do not count: only those that resolve to the notebook's global namespace link cells together.
"""
from __future__ import annotations

import ast
import symtable
from functools import lru_cache


@lru_cache(maxsize=4096)
def python_of(source: str) -> str:
    """A cell's code as plain Python (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def names(code: str) -> tuple[set[str], set[str]]:
    """(global names the code reads, names it binds at top level). A cell that does not parse: (∅, ∅)."""
    try:
        table = symtable.symtable(code, "<célula>", "exec")
    except SyntaxError:
        return set(), set()
    used: set[str] = set()
    bound: set[str] = set()
    for sym in table.get_symbols():
        if sym.is_referenced():
            used.add(sym.get_name())
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            bound.add(sym.get_name())
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        stack.extend(scope.get_children())
        for sym in scope.get_symbols():
            if sym.is_referenced() and (sym.is_global() or sym.is_declared_global()):
                used.add(sym.get_name())
            if sym.is_declared_global() and sym.is_assigned():
                bound.add(sym.get_name())
    return used, bound


def cell_flow(source: str) -> tuple[set[str], set[str]] | None:
    """(names the cell reads before binding them itself, names it binds), statement by statement.

    `x = 1` then `print(x)` in the same cell does not read the notebook's `x`; `x = x + 1` does. A
    function body counts where it is defined (what it reads may be read when it is called). None: the
    cell does not parse (nothing can be said about it)."""
    code = python_of(source)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    free: set[str] = set()
    bound: set[str] = set()
    for statement in tree.body:
        used, binds = names(ast.unparse(statement))
        free |= used - bound
        bound |= binds
    return free, bound
