"""course.student_time: the documented model of a first-time student's minutes per lesson."""
from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import builders as B
from course import student_time as st


def _nb(*cells):
    return new_notebook(cells=list(cells))


def test_prose_counts_words_not_tags_or_links():
    assert st.words("Um <b>dois</b> https://exemplo.org/três ![figura](a.png) quatro") == 3
    nb = _nb(new_markdown_cell(" ".join(["palavra"] * 260)))
    assert st.estimate(nb).core == pytest.approx(260 / st.WORDS_PER_MINUTE)


def test_exercise_costs_a_base_plus_each_written_line_and_its_checks_nothing_more():
    answer = "def f(x):\n    # comentário\n\n    y = x + 1\n    return y"
    cells = B.exercise("ex1_f", answer, "assert f(1) == 2", "f(0)", "assert f(2) == 3")
    nb = _nb(*cells[1:])   # answer, visible check, tests (no prose)
    assert st.written_lines(cells[1].source) == 3
    assert st.estimate(nb).core == pytest.approx(st.EXERCISE_MINUTES + 3 * st.MINUTES_PER_LINE)


def test_demo_cells_cost_a_fixed_time():
    nb = _nb(new_code_cell("print(1)"), new_code_cell("x = 2"))
    assert st.estimate(nb).core == pytest.approx(2 * st.DEMO_MINUTES)


def test_optional_sections_run_to_the_next_heading_of_the_same_level():
    nb = _nb(
        new_markdown_cell("## 1. Essencial"),
        new_code_cell("a = 1"),
        new_markdown_cell("### 1.1 Mais fundo (opcional)"),
        new_code_cell("b = 2"),
        new_markdown_cell("#### detalhe dentro do opcional"),
        new_code_cell("c = 3"),
        new_markdown_cell("## 2. De volta ao essencial"),
        new_code_cell("d = 4"),
    )
    est = st.estimate(nb)
    words = {"## 1. Essencial": 2, "### 1.1 Mais fundo (opcional)": 4,
             "#### detalhe dentro do opcional": 4, "## 2. De volta ao essencial": 5}
    assert est.optional_sections == ("1.1 Mais fundo (opcional)",)
    assert est.optional == pytest.approx(2 * st.DEMO_MINUTES + (words["### 1.1 Mais fundo (opcional)"]
                                                                + words["#### detalhe dentro do opcional"]) / 130)
    assert est.core == pytest.approx(2 * st.DEMO_MINUTES + (words["## 1. Essencial"]
                                                            + words["## 2. De volta ao essencial"]) / 130)
