"""Mutation testing of the hidden tests (`make mutantes`, docs/HIDDEN_TESTS.md).

`make test` screens every mutant of every exercise (but the MNIST training, declared slow in the
catalogue) in one IPython process per notebook, requires ≥ 95 % killed per exercise, and grades a
sample through nbgrader to prove that the screen's verdicts are nbgrader's.
"""
from __future__ import annotations

import ast

import pytest

from conftest import NOTEBOOKS
from course import mutants

ANSWER = '''def f(x, xs, n=3):
    """Docstring que não muda."""
    ### BEGIN SOLUTION
    y = x.clone()
    total = 0
    for i in range(n):
        if i < 2 and not xs[i] == 0:
            total += torch.sum(xs, dim=0) * 2.5
    return torch.maximum(y, -total), True
    ### END SOLUTION
'''


def test_every_operator_mutates_only_the_solution_block():
    found = mutants.mutants_of(ANSWER, "nb", "ex1_f")
    operators = {m.operator for m in found}
    assert operators == {"binop", "compare", "boolop", "unary", "const", "swap_args", "drop_kwarg",
                         "drop_call", "range", "drop_stmt"}, operators
    original = ast.unparse(ast.parse(ANSWER))
    for m in found:
        tree = ast.parse(m.code)
        func = tree.body[0]
        assert ast.unparse(func.args) == "x, xs, n=3", m.description          # the signature is kept
        assert ast.get_docstring(func) == "Docstring que não muda.", m.description
        assert ast.unparse(tree) != original, m.description
    assert len({m.code for m in found}) == len(found), "mutantes repetidos"
    described = {m.description for m in found}
    for expected in ("`i < 2` → `i <= 2`", "`x.clone()` → `x`", "`torch.sum(xs, dim=0)` → `torch.sum(xs)`",
                     "`range(n)` → `range(n + 1)`", "`2.5` → `5.0`", "`True` → `False`"):
        assert any(expected in d for d in described), (expected, sorted(described))
    assert any(d.startswith("linha 4: remove `y = x.clone()`") for d in described), sorted(described)


def test_mutant_ids_are_stable_and_sampling_is_deterministic():
    first = mutants.mutants_of(ANSWER, "nb", "ex1_f")
    again = mutants.mutants_of("# comentário novo\n" + ANSWER, "nb", "ex1_f")
    assert [m.id for m in first] == [m.id for m in again]     # an edit outside the code keeps the ids
    every = 3
    picked = mutants.sample(first, every)
    assert picked == mutants.sample(list(reversed(first)), every)
    assert len(picked) == -(-len(first) // every)


def test_a_solution_without_markers_is_refused():
    with pytest.raises(ValueError, match="BEGIN/END SOLUTION"):
        mutants.mutants_of("def f():\n    return 1\n")


def test_report_counts_equivalents_apart_and_applies_the_target():
    found = mutants.mutants_of(ANSWER, "nb", "ex1_f")[:10]
    verdicts = [mutants.Verdict(m, killed=i > 0, seconds=0.1) for i, m in enumerate(found)]
    report = mutants.Report(verdicts=verdicts, equivalents={"nb": {}})
    assert not report.ok and "NÃO atingida" in mutants.table(report)   # 9/10 = 90 %
    (_, _, killed, total, equivalent, _, survivors), = report.rows()
    assert (killed, total, equivalent, len(survivors)) == (9, 10, 0, 1)
    report.equivalents = {"nb": {("ex1_f", found[0].id): "é igual"}}
    (_, _, killed, total, equivalent, _, survivors), = report.rows()
    assert (killed, total, equivalent, survivors) == (9, 9, 1, [])
    assert report.ok and "atingida" in mutants.table(report)


@pytest.fixture(scope="module")
def screened():
    report = mutants.screen(jobs=2, quick=True)
    print("\n" + mutants.table(report))
    return report


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_hidden_tests_kill_95_percent_of_the_mutants_of_every_exercise(screened, name):
    rows = [r for r in screened.rows() if r[0] == name]
    assert rows, f"nenhum mutante triado em {name}"
    problems = [p for p in screened.problems if p.startswith(name)]
    assert not problems, "\n".join(problems)
    weak = [f"{cell}: {killed}/{total} — sobreviventes: " + ", ".join(f"{v.mutant.id} ({v.mutant.description})"
                                                                    for v in survivors)
            for _, cell, killed, total, _, _, survivors in rows if total and killed / total < mutants.TARGET]
    assert not weak, "\n".join(weak)


def test_every_recorded_equivalent_still_names_a_mutant(screened):
    assert not screened.stale_equivalents()


def test_nbgrader_agrees_with_the_screen(screened):
    """A sample graded through nbgrader (sandbox, rounds of `make variantes`) gets the same verdicts."""
    names = ["02_calculo_dl", "03_perceptron_redes"]
    graded = mutants.run(names, jobs=2, every=9)
    assert not graded.problems, "\n".join(graded.problems)
    quick = {(v.mutant.notebook, v.mutant.cell, v.mutant.id): v.killed for v in screened.verdicts}
    assert len(graded.verdicts) >= 10
    differ = [f"{v.mutant.notebook} {v.mutant.cell} {v.mutant.id}: nbgrader {'matou' if v.killed else 'não matou'}"
              for v in graded.verdicts if quick[(v.mutant.notebook, v.mutant.cell, v.mutant.id)] != v.killed]
    assert not differ, "\n".join(differ)
