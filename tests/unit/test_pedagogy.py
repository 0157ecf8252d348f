"""course.pedagogy: the lesson-level rules of issue 13 (time, prompts, self-assessment, Colab entry, vocabulary)."""
from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

import builders as B
from course import pedagogy


def _problems(nb, name=B.NAME) -> str:
    return " | ".join(pedagogy.lesson_problems(nb, name))


def _md(nb, start: str):
    return next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith(start))


def test_the_model_lesson_follows_every_rule():
    assert _problems(B.lesson()) == ""


def test_a_numbered_section_without_a_prompt_is_reported():
    nb = B.lesson()
    nb.cells.insert(5, new_markdown_cell("## 2. Outra seção\n\nTexto sem pergunta."))
    assert "seção “2. Outra seção”: falta um “**Pense!**”" in _problems(nb)


def test_a_prompt_in_an_optional_subsection_does_not_count_for_the_core_path():
    nb = B.lesson()
    nb.cells.insert(5, new_markdown_cell(f"## 2. Outra seção\n\n### Mais fundo (opcional)\n\n{B.pense('E?', 'Sim.')}"))
    assert "seção “2. Outra seção”" in _problems(nb)
    nb.cells.insert(5, new_markdown_cell("## 3. Seção opcional (opcional)\n\nSem pergunta."))
    assert "seção “3. Seção opcional" not in _problems(nb)  # an optional section needs no prompt


def test_a_prompt_needs_its_answer_in_details():
    nb = B.lesson()
    _md(nb, "## 1.").source = "## 1. Dobro e raiz\n\n**Pense!** Quanto vale o dobro de 0,5?"
    problems = _problems(nb)
    assert "traz a resposta num bloco <details>" in problems
    assert "seção “1. Dobro e raiz”: falta" in problems


@pytest.mark.parametrize("questions, ok", [(4, False), (5, True), (8, True), (9, False)])
def test_the_self_assessment_has_five_to_eight_questions(questions, ok):
    nb = B.lesson()
    _md(nb, "## Autoavaliação").source = B.self_assessment(questions)
    assert ("Autoavaliação com" not in _problems(nb)) is ok


def test_the_self_assessment_is_required_once_after_the_exercises():
    nb = B.lesson()
    sa = _md(nb, "## Autoavaliação")
    nb.cells.remove(sa)
    assert "“## Autoavaliação”" in _problems(nb)
    nb.cells.insert(4, sa)
    assert "a Autoavaliação vem depois de todos os exercícios" in _problems(nb)


def test_the_entry_cells_tell_how_to_save_a_copy():
    nb = B.lesson()
    _md(nb, "No Colab").source = "Bem-vinda à aula."
    assert "Salvar uma cópia no Drive" in _problems(nb)


@pytest.mark.parametrize("text, form", [
    ("Escolha a taxa de aprendizado com cuidado.", "taxa de aprendizado"),
    ("A descida do gradiente converge.", "descida do gradiente"),
    ("Cada batch tem 64 imagens.", "batch"),
    ("O Gradiente Que Desaparece nas redes fundas.", "gradiente que desaparece"),
])
def test_a_form_the_glossary_forbids_is_reported_in_prose(text, form):
    nb = B.lesson()
    nb.cells.append(new_markdown_cell(text))
    assert f"usa “{form}”" in _problems(nb)


@pytest.mark.parametrize("text", [
    "Cada lote (*batch*) tem 64 imagens.",               # the English name in italics, beside the term
    "Use `batch_size=64` e `loss.backward()`.",           # code spans
    "```python\nfor batch in loader: ...\n```",           # code blocks
    "Uma função $loss(x)$ qualquer.",                     # math
    "Veja [o tutorial](https://exemplo.org/batch-loss).",  # link targets
    "O lote e a época; batching é outra palavra.",        # a longer word that contains a form
])
def test_code_math_links_and_italics_are_not_prose(text):
    nb = B.lesson()
    nb.cells.append(new_markdown_cell(text))
    assert "vocabulário" not in _problems(nb)


@pytest.mark.parametrize("text, flagged", [
    ("Use a taxa 0.01.", True), ("Acertou 97.5 % do teste.", True), ("Use a taxa 0,01.", False),
    ("Veja a Aula 2.3 e a seção 1.2.", False), ("Acertou 97,5 % do teste.", False),
])
def test_decimals_in_prose_use_a_comma(text, flagged):
    nb = B.lesson()
    nb.cells.append(new_markdown_cell(text))
    assert ("decimal com vírgula" in _problems(nb)) is flagged


def test_the_core_path_must_fit_the_lessons_duration(monkeypatch):
    nb = B.lesson()
    monkeypatch.setitem(pedagogy.NOTEBOOKS, B.NAME, 1)
    assert "caminho essencial estimado em" in _problems(nb)
    core = pedagogy.student_time.estimate(nb).core
    monkeypatch.setitem(pedagogy.NOTEBOOKS, B.NAME, int(core) + 2)
    assert "caminho essencial" not in _problems(nb)
    demos = [new_code_cell("x = 1") for _ in range(10)]  # 4 minutes more by the model
    with_optional = B.lesson()
    at = with_optional.cells.index(_md(with_optional, "## Resumo"))
    with_optional.cells[at:at] = [new_markdown_cell("### Demonstrações (opcional)"), *demos,
                                  new_markdown_cell("### De volta ao essencial")]
    assert "caminho essencial" not in _problems(with_optional)
    at = nb.cells.index(_md(nb, "## Resumo"))
    nb.cells[at:at] = demos
    assert "caminho essencial estimado em" in _problems(nb)


def test_the_glossary_table_is_read():
    terms = pedagogy.forbidden_terms()
    assert terms["taxa de aprendizado"] == "taxa de aprendizagem"
    assert terms["batch"] == "lote"
    assert "—" not in terms and "tensor" not in terms
