"""course.demos: which marked demo cells autograde leaves unrun, and ProtectedExecute honouring it."""
from __future__ import annotations

import copy

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import builders as B
from course import demos, notebooks as nbt


def marked(source: str):
    cell = new_code_cell(source)
    cell.metadata["tags"] = [demos.TAG]
    return cell


def notebook(*cells):
    return new_notebook(cells=list(cells), metadata={"kernelspec": B.KERNELSPEC})


def skipped(nb) -> list[int]:
    return sorted(demos.skipped(nb, demos.Marks.of(nb)))


def test_a_marked_demo_that_nothing_reads_is_skipped_and_the_other_cells_run():
    nb = notebook(new_code_cell("import math"), marked("fig = math.pi\nprint(fig)"), new_code_cell("y = math.e"))
    assert skipped(nb) == [1]


def test_a_marked_demo_whose_name_a_later_cell_reads_runs():
    nb = notebook(marked("dados = [1, 2]"), new_code_cell("print(len(dados))"))
    assert skipped(nb) == []


def test_a_name_read_only_inside_a_function_still_counts():
    nb = notebook(marked("escala = 2"), new_code_cell("def f(x):\n    return escala * x"))
    assert skipped(nb) == []


def test_a_name_bound_again_before_it_is_read_does_not_keep_the_demo():
    nb = notebook(marked("x = 1"), new_code_cell("x = 2"), new_code_cell("print(x)"),
                  marked("z = 3"), new_code_cell("z = 0\nprint(z)"))
    assert skipped(nb) == [0, 3]


def test_reading_a_name_before_binding_it_in_the_same_cell_keeps_the_demo():
    nb = notebook(marked("total = 1"), new_code_cell("total = total + 1"))
    assert skipped(nb) == []


def test_a_demo_read_only_by_other_skipped_demos_is_skipped_until_one_of_them_must_run():
    chain = notebook(marked("a = 1"), marked("b = a + 1"), new_code_cell("c = 0"))
    assert skipped(chain) == [0, 1]
    # b is read by a cell that runs: b runs, so what b reads (a) must run too (fixed point)
    chain.cells.append(new_code_cell("print(b)"))
    assert skipped(chain) == []


def test_a_later_cell_that_does_not_parse_keeps_every_demo_before_it():
    nb = notebook(marked("a = 1"), new_code_cell("def (:"), marked("b = 2"))
    assert skipped(nb) == [2]


def test_ipython_magics_parse():
    nb = notebook(marked("%matplotlib inline\nfig = 1"), new_code_cell("!echo oi\nx = 2"))
    assert skipped(nb) == [0]


def test_a_students_cell_that_reads_names_dynamically_keeps_every_demo_before_it():
    source = notebook(marked("amostra = [1, 2]"), B.graded(new_code_cell("resposta = 1"), "ex1_r", solution=True),
                      marked("fim = 0"), new_code_cell("print(globals().get('x'))"))
    assert skipped(source) == [0, 2]  # the source's own cells are taken as written (globals() for one name)
    for dynamic in ("resposta = globals()['amostra']", "%timeit len(amostra)", "resposta = eval('amostra')"):
        student = copy.deepcopy(source)
        student.cells[1].source = dynamic
        assert demos.skipped(student, demos.Marks.of(source)) == {2}, dynamic


def test_the_mark_comes_from_the_source_notebook_not_from_the_submission():
    source = notebook(new_code_cell("import math"), marked("demo = math.tau"), new_code_cell("r = 1"))
    marks = demos.Marks.of(source)
    submission = copy.deepcopy(source)
    submission.cells[1].metadata["tags"] = []  # the student's copy lost the tag: still skipped
    submission.cells[2].metadata["tags"] = [demos.TAG]  # a tag the student added: ignored
    assert demos.skipped(submission, marks) == {1}
    edited = copy.deepcopy(source)
    edited.cells[1].source = "demo = math.tau * 2"  # a student who edited the demo has it run
    assert demos.skipped(edited, marks) == set()


def test_an_nbgrader_cell_is_never_skipped_even_with_the_source_of_a_marked_one():
    source = notebook(marked("print('oi')"))
    submission = notebook(B.graded(new_code_cell("print('oi')"), "ex1_testes", grade=True, locked=True, points=1))
    assert demos.skipped(submission, demos.Marks.of(source)) == set()


def test_a_student_answer_that_reads_a_demo_variable_keeps_that_demo():
    source = notebook(marked("exemplo = [3, 1, 2]"),
                      B.graded(new_code_cell("def f():\n    return 1"), "ex1_f", solution=True))
    assert skipped(source) == [0]
    student = copy.deepcopy(source)
    student.cells[1].source = "def f():\n    return len(exemplo)"
    assert demos.skipped(student, demos.Marks.of(source)) == set()


@pytest.mark.parametrize("cell, message", [
    (lambda: B.graded(marked("x = 1"), "ex1_testes", grade=True, locked=True, points=1), "célula do nbgrader"),
    (lambda: _tagged_markdown(), "só vale para células de código"),
    (lambda: marked("def (:"), "não é Python válido"),
])
def test_lint_rejects_a_mark_the_autograder_could_not_honour(cell, message):
    assert any(message in p for p in demos.problems(notebook(cell())))


def test_lint_rejects_a_marked_demo_that_a_later_cell_depends_on():
    problems = demos.problems(notebook(marked("dados = 1"), new_code_cell("dados + 1")))
    assert len(problems) == 1 and "lê o que ela define" in problems[0]
    assert demos.problems(notebook(marked("dados = 1"), new_code_cell("x = 1"))) == []


def _tagged_markdown():
    cell = new_markdown_cell("texto")
    cell.metadata["tags"] = [demos.TAG]
    return cell


def test_every_lesson_marks_demos_and_every_mark_holds():
    from course.settings import ASSIGNMENT, NOTEBOOKS, ROOT

    for name in NOTEBOOKS:
        nb = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
        assert demos.problems(nb) == [], name
        assert len(skipped(nb)) == sum(demos.is_marked(c) for c in nb.cells) > 0, name


def test_the_catalogue_comparison_reports_a_changed_score():
    from course.variants import DemoComparison, Report

    def report(score, skipped):
        return Report(grades={"var1r01": {"ex1_testes": (score, 2.0)}}, demos_skipped={"var1r01": skipped},
                      seconds={"var1r01": 1.0}, notebooks={"var1r01": "01_aula"})

    assert DemoComparison(report(2.0, 3), report(2.0, 0)).ok
    changed = DemoComparison(report(1.0, 3), report(2.0, 0))
    assert not changed.ok and changed.differences == ["var1r01 ex1_testes: (1.0, 2.0) pulando ≠ (2.0, 2.0) executando"]
    assert "!! var1r01" in changed.table()
    assert not DemoComparison(report(2.0, 3), report(2.0, 1)).ok  # skip_demo_cells=False still skipped
