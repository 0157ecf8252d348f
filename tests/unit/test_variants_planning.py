"""course.variants: which exercises can change each other's score, and rounds that keep them apart."""
from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_notebook

import builders as B
from course import variants
from course.cellnames import names as _names
from course.variants import Variant, exercise_dependencies, plan_rounds

# --- names a cell reads and binds -------------------------------------------------------------------

def test_names_are_scope_aware():
    used, bound = _names(
        "import math as m\n"
        "LIMITE = 3\n"
        "def f(x):\n"
        "    y = x + LIMITE\n"
        "    return [z * y for z in range(y)]\n"
        "class C:\n"
        "    pass\n")
    assert bound == {"m", "LIMITE", "f", "C"}
    assert "LIMITE" in used and "range" in used
    assert not {"x", "y", "z"} & (used | bound)  # locals of a function / comprehension


def test_global_declaration_binds_at_top_level():
    used, bound = _names("def f():\n    global contador\n    contador = total + 1\n")
    assert "contador" in bound and "total" in used


def test_a_cell_that_does_not_parse_links_nothing():
    assert _names("def f(:\n") == (set(), set())


# --- dependencies -----------------------------------------------------------------------------------

def _chain():
    """ex1 defines dobro; ex2 uses it; ex3's tests use ex2's answer; ex4 stands alone."""
    cells = [new_code_cell("import math")]
    cells += B.exercise("ex1_dobro", "def dobro(x):\n    return 2 * x", "dobro(1)", "dobro(1)", "assert dobro(2) == 4")
    cells += B.exercise("ex2_quadruplo", "def quadruplo(x):\n    return dobro(dobro(x))", "quadruplo(1)",
                        "quadruplo(1)", "assert quadruplo(1) == 4")
    cells += B.exercise("ex3_tabela", "def tabela(n):\n    return list(range(n))", "tabela(2)", "tabela(2)",
                        "assert tabela(2) == [quadruplo(0) // 4, 1]")
    cells += B.exercise("ex4_raiz", "def raiz(x):\n    return math.sqrt(x)", "raiz(4)", "raiz(4)",
                        "assert raiz(9) == 3")
    return new_notebook(cells=cells)


def test_exercise_dependencies_follow_names_through_answers_and_tests_transitively():
    deps = exercise_dependencies(_chain())
    assert deps == {"ex1_dobro": set(), "ex2_quadruplo": {"ex1_dobro"},
                    "ex3_tabela": {"ex1_dobro", "ex2_quadruplo"}, "ex4_raiz": set()}


def test_a_local_name_equal_to_an_answer_does_not_link_exercises():
    cells = B.exercise("ex1_a", "def a():\n    return 1", "a()", "a()", "assert a() == 1")
    cells += B.exercise("ex2_b", "def b():\n    a = 2\n    return a", "b()", "b()", "assert b() == 2")
    assert exercise_dependencies(new_notebook(cells=cells))["ex2_b"] == set()


def test_an_ordinary_cell_in_between_carries_the_dependency():
    cells = B.exercise("ex1_a", "def a():\n    return 1", "a()", "a()", "assert a() == 1")
    cells.append(new_code_cell("valor = a() + 1"))
    cells += B.exercise("ex2_b", "def b():\n    return valor", "b()", "b()", "assert b() == 2")
    assert exercise_dependencies(new_notebook(cells=cells))["ex2_b"] == {"ex1_a"}


# --- rounds -------------------------------------------------------------------------------------------

def _v(cell, kind, name):
    return Variant("nb", cell, kind, name, "", "pass")


DEPS = {"ex1": set(), "ex2": {"ex1"}, "ex3": set()}


def _check_plan(variants, rounds, deps):
    placed = [v for r in rounds for v in r]
    assert sorted(placed, key=repr) == sorted(variants, key=repr)  # each variant exactly once
    for r in rounds:
        assert len({v.cell for v in r}) == len(r)  # one variant per exercise
        for v in r:
            for o in r:
                if v is not o and v.kind == "wrong":
                    assert v.cell not in deps.get(o.cell, ()), (v, o)


def test_a_wrong_answer_never_shares_a_round_with_an_exercise_built_on_it():
    variants = [_v("ex1", "wrong", "a"), _v("ex1", "wrong", "b"), _v("ex2", "wrong", "c"), _v("ex3", "wrong", "d")]
    rounds = plan_rounds(variants, DEPS)
    _check_plan(variants, rounds, DEPS)
    assert len(rounds) == 3


def test_a_correct_answer_may_share_a_round_with_what_is_built_on_it():
    variants = [_v("ex1", "correct", "a"), _v("ex2", "wrong", "b"), _v("ex3", "correct", "c")]
    rounds = plan_rounds(variants, DEPS)
    _check_plan(variants, rounds, DEPS)
    assert len(rounds) == 1


def test_independent_exercises_are_graded_together():
    variants = [_v(f"ex{i}", "wrong", str(j)) for i in (1, 3) for j in range(3)]
    rounds = plan_rounds(variants, DEPS)
    _check_plan(variants, rounds, DEPS)
    assert len(rounds) == 3 and all(len(r) == 2 for r in rounds)


def test_no_variants_no_rounds():
    assert plan_rounds([], DEPS) == []


@pytest.mark.parametrize("table, stand_in", [("slow", "stand_in"), ("lento", "atalho")])
def test_slow_exercises_are_read_with_the_english_keys_and_the_old_portuguese_ones(tmp_path, table, stand_in):
    (tmp_path / "00_x.toml").write_text(f"[{table}.ex6_treino]\nwhy = 'treina'\n{stand_in} = 'model = 1'\n",
                                        encoding="utf-8")
    assert variants.load_slow_exercises("00_x", tmp_path) == {"ex6_treino": "model = 1"}
    assert variants.load_slow_exercises("00_nenhum", tmp_path) == {}
