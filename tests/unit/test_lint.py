"""course.lint: each authoring rule of docs/AUTHORING.md reports a broken notebook, and only then."""
from __future__ import annotations

import json

import nbformat
import pytest

import builders as B
from course import lint


def _lint(tmp_path, nb_or_raw, name=B.NAME) -> str:
    path = tmp_path / f"{name}.ipynb"
    raw = B.as_dict(nb_or_raw) if isinstance(nb_or_raw, nbformat.NotebookNode) else nb_or_raw
    path.write_text(json.dumps(raw), encoding="utf-8")
    return " | ".join(lint.lint_source(path))


def _cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def test_a_notebook_that_follows_the_rules_has_no_problem(tmp_path):
    assert _lint(tmp_path, B.lesson()) == ""


def _old_format(nb):
    raw = B.as_dict(nb)
    raw["nbformat_minor"] = 4
    for cell in raw["cells"]:
        cell.pop("id")
    return raw


def _stored_output(nb):
    cell = nb.cells[B.first_code(nb)]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x")]
    cell.execution_count = 1
    return nb


def _wrong_kernel(nb):
    nb.metadata.kernelspec["name"] = "ir"
    return nb


def _no_badge(nb):
    nb.cells[0].source = "# Aula"
    return nb


def _duplicate_grade_id(nb):
    _cell(nb, "ex2_raiz_verificacao").metadata.nbgrader["grade_id"] = "ex1_dobro_verificacao"
    return nb


def _bad_exercise_id(nb):
    _cell(nb, "ex2_raiz").metadata.nbgrader["grade_id"] = "Raiz"
    return nb


def _manual_answer(nb):
    _cell(nb, "ex1_dobro").metadata.nbgrader["grade"] = True
    return nb


def _no_solution_markers(nb):
    _cell(nb, "ex1_dobro").source = "def dobro(x):\n    return 2 * x"
    return nb


def _no_hidden_tests_cell(nb):
    nb.cells.remove(_cell(nb, "ex2_raiz_testes"))
    return nb


def _no_visible_check(nb):
    nb.cells.remove(_cell(nb, "ex2_raiz_verificacao"))
    return nb


def _check_with_points(nb):
    _cell(nb, "ex1_dobro_verificacao").metadata.nbgrader.update(grade=True, points=1)
    return nb


def _no_hidden_block(nb):
    _cell(nb, "ex1_dobro_testes").source = "dobro(1)\nassert dobro(3) == 6"
    return nb


def _no_points(nb):
    _cell(nb, "ex1_dobro_testes").metadata.nbgrader["points"] = 0
    return nb


def _only_comments_outside(nb):
    cell = _cell(nb, "ex1_dobro_testes")
    cell.source = "# só comentário\n" + cell.source.split("\n", 1)[1]
    return nb


def _tests_in_sight(nb):
    cell = _cell(nb, "ex1_dobro_testes")
    cell.source = "assert dobro(1) == 2\n" * 5 + cell.source
    return nb


def _orphan_test(nb):
    _cell(nb, "ex2_raiz_testes").metadata.nbgrader["grade_id"] = "ex9_outro_testes"
    return nb


def _no_exercise(nb):
    nb.cells = nb.cells[:2]
    return nb


BROKEN = {
    "nbformat antigo sem ids": (_old_format, ["nbformat deve ser 4.5", "id único"]),
    "saídas guardadas": (_stored_output, ["guarda saídas"]),
    "kernel errado": (_wrong_kernel, ["kernelspec deve ser python3"]),
    "sem selo do Colab": (_no_badge, ["selo 'Abrir no Colab'"]),
    "grade_id repetido": (_duplicate_grade_id, ["grade_id repetido: ['ex1_dobro_verificacao']"]),
    "id de exercício fora do padrão": (_bad_exercise_id, ["'Raiz': use o padrão exN_nome"]),
    "resposta manual": (_manual_answer, ["ex1_dobro: respostas manuais"]),
    "resposta sem marcadores": (_no_solution_markers, ["ex1_dobro: a resposta deve ser código com ### BEGIN/END"]),
    "sem testes ocultos": (_no_hidden_tests_cell, ["ex2_raiz: falta a célula de testes ocultos ex2_raiz_testes"]),
    "sem verificação visível": (_no_visible_check, ["ex2_raiz: falta a verificação visível"]),
    "verificação com pontos": (_check_with_points, ["ex1_dobro_verificacao: deve ser somente leitura e sem pontos"]),
    "sem bloco oculto": (_no_hidden_block, ["ex1_dobro_testes: sem ### BEGIN HIDDEN TESTS"]),
    "sem pontos": (_no_points, ["ex1_dobro_testes: sem pontos"]),
    "só comentários fora do bloco": (_only_comments_outside, ["ex1_dobro_testes: falta, fora do bloco oculto"]),
    "testes à vista": (_tests_in_sight, ["ex1_dobro_testes: 6 linhas de código fora do bloco oculto"]),
    "teste sem exercício": (_orphan_test, ["ex9_outro_testes: o id deve começar pelo id do exercício",
                                           "ex2_raiz: falta a célula de testes ocultos"]),
    "nenhum exercício": (_no_exercise, ["nenhum exercício"]),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_broken_rule_is_reported(tmp_path, case):
    breaker, expected = BROKEN[case]
    problems = _lint(tmp_path, breaker(B.lesson()))
    for text in expected:
        assert text in problems, problems


def test_the_badge_must_point_at_this_notebook(tmp_path):
    """The badge of another lesson does not count: the URL is the notebook's own."""
    assert "selo 'Abrir no Colab'" in _lint(tmp_path, B.lesson("01_outra"), name="02_esta")
