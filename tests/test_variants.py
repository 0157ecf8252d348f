"""Test the tests: every catalogued wrong answer loses its exercise's points, every correct one gets them.

The same command for a person: `make variantes` (or `python -m course variantes [NOTEBOOK...]`).
`make test` grades the quick set (all but the MNIST training's variants, marked slow in the catalogue);
the MNIST variants run in `test_mnist_training_variants` (`make test-completo`, ~8 min).
"""
from __future__ import annotations

import shutil

import pytest

from conftest import ASSIGNMENT, NOTEBOOKS
from course import notebooks as nbt, variants
from course.grading import gradebook
from course.workspace import scratch_course


@pytest.fixture(scope="module")
def report():
    result = variants.run(jobs=2, quick=True)
    print("\n" + variants.table(result))
    return result


def _assert_all_right(report, name):
    mine = [o for o in report.outcomes if o.variant.notebook == name]
    assert mine, f"nenhuma variante corrigida para {name}"
    wrong_accepted = [o.variant.name for o in mine if o.variant.kind == "wrong" and not o.ok]
    right_rejected = [o.variant.name for o in mine if o.variant.kind == "correct" and not o.ok]
    assert not wrong_accepted, f"variantes erradas aceitas: {wrong_accepted}"
    assert not right_rejected, f"variantes corretas rejeitadas: {right_rejected}"
    problems = [p for p in report.problems if p.startswith(name)]
    assert not problems, "\n".join(problems)


def test_catalogue_covers_every_exercise_with_three_wrong_and_two_correct():
    from conftest import ROOT

    for name in NOTEBOOKS:
        source = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
        catalogue = variants.load_catalogue(name)
        for cell in source.cells:
            if nbt.is_solution(cell):
                gid = nbt.grade_id(cell)
                kinds = [v.kind for v in catalogue if v.cell == gid]
                assert kinds.count("wrong") >= 3 and kinds.count("correct") >= 2, (name, gid, kinds)


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_every_stated_rule_is_listed_and_broken_alone_by_a_wrong_variant(name):
    """docs/HIDDEN_TESTS.md: each exercise lists its rules; each rule has a wrong variant breaking it."""
    from conftest import ROOT

    source = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
    exercises = [nbt.grade_id(c) for c in source.cells if nbt.is_solution(c)]
    rules = variants.load_rules(name)
    catalogue = variants.load_catalogue(name)
    ids = {(r.cell, r.id) for r in rules}
    assert len(ids) == len(rules), "id de regra repetido no mesmo exercício"
    for ex in exercises:
        assert any(r.cell == ex for r in rules), f"{name}/{ex}: nenhuma regra listada ([[rule]])"
    assert all(r.cell in exercises and r.text.strip() for r in rules), "regra de célula inexistente ou sem texto"
    uncovered = [f"{r.cell}:{r.id}" for r in rules
                 if not any(v.kind == "wrong" and v.cell == r.cell and v.rule == r.id for v in catalogue)]
    assert not uncovered, f"regras sem variante errada que as quebre: {uncovered}"
    unknown = [f"{v.cell}:{v.name} → {v.rule}" for v in catalogue if v.rule and (v.cell, v.rule) not in ids]
    assert not unknown, f"variantes que citam regras inexistentes: {unknown}"
    assert not [v.name for v in catalogue if v.kind == "correct" and v.rule], "variante correta não quebra regra"


def test_every_exercise_has_a_wrong_answer_that_passes_its_visible_check(report):
    """Recognized by behaviour, not by name: some wrong variant of each exercise (the one that
    hard-codes the visible example, at least) passes the visible check and still loses points."""
    judged = {(o.variant.notebook, o.variant.cell) for o in report.outcomes}
    fooled = {(o.variant.notebook, o.variant.cell) for o in report.outcomes
              if o.variant.kind == "wrong" and o.passes_visible_check and o.ok}
    assert judged - fooled == set(), f"sem variante errada que passe na verificação visível: {sorted(judged - fooled)}"
    assert all(o.passes_visible_check for o in report.outcomes if o.variant.kind == "correct"), (
        "variante correta reprovada na verificação visível")


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_every_wrong_variant_is_rejected_and_every_correct_one_accepted(report, name):
    _assert_all_right(report, name)


def test_quick_set_leaves_out_only_the_mnist_training():
    """Only what the catalogue declares slow is left out, and every other exercise is graded."""
    slow = {name: variants.load_slow_exercises(name) for name in NOTEBOOKS}
    assert {name: set(cells) for name, cells in slow.items() if cells} == {"04_mlp_implementacao": {"ex6_mnist"}}
    stand_in = slow["04_mlp_implementacao"]["ex6_mnist"]
    assert "train_one_epoch" not in stand_in and "for " not in stand_in  # no training in the stand-in


def test_quick_report_covers_every_other_exercise(report):
    from conftest import ROOT

    graded = {(o.variant.notebook, o.variant.cell) for o in report.outcomes}
    for name in NOTEBOOKS:
        source = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
        for cell in source.cells:
            if nbt.is_solution(cell) and nbt.grade_id(cell) not in variants.load_slow_exercises(name):
                assert (name, nbt.grade_id(cell)) in graded, (name, nbt.grade_id(cell))
    assert [(n, ex) for n, ex, _ in report.skipped] == [("04_mlp_implementacao", "ex6_mnist")]
    assert "fora do modo rápido" in variants.table(report)


@pytest.mark.mnist
def test_mnist_training_variants():
    """Lesson 4 in full: the MNIST training's variants too, with the real training in every round."""
    result = variants.run(["04_mlp_implementacao"], jobs=2)
    print("\n" + variants.table(result))
    assert any(o.variant.cell == "ex6_mnist" for o in result.outcomes)
    _assert_all_right(result, "04_mlp_implementacao")
    assert not result.problems, "\n".join(result.problems)


def test_skipping_the_marked_demos_changes_no_score():
    """Issue 12, item 6, quick subset: the first planned submission of every notebook and its untouched
    version, graded skipping the marked demo cells and running them (`make variantes-demonstracoes`
    compares the whole catalogue)."""
    comparison = variants.compare_demo_skipping(jobs=2, quick=True, rounds=1)
    print("\n" + comparison.table())
    assert comparison.differences == []
    for name in NOTEBOOKS:  # it compared something: demos were left unrun in every notebook
        students = [s for s, n in comparison.skipping.notebooks.items() if n == name]
        assert len(students) == 2, name
        assert all(comparison.skipping.demos_skipped[s] > 0 for s in students), name
    assert not any(comparison.running.demos_skipped.values())
    assert comparison.ok


def test_the_catalogue_is_graded_as_autograde_runs_skipping_the_demos(report):
    for name in NOTEBOOKS:
        assert any(report.demos_skipped[s] for s, n in report.notebooks.items() if n == name), name


def test_no_catalogue_or_runner_problem(report):
    assert not report.problems, "\n".join(report.problems)


def test_runner_reports_a_weak_test():
    """The runner itself can fail: a 'wrong' variant that is in fact correct shows up as accepted."""
    from conftest import ROOT

    name = "02_calculo_dl"
    source = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
    first = next(c for c in source.cells if nbt.is_solution(c))
    fake = variants.Variant(name, nbt.grade_id(first), "wrong", "na_verdade_correta", "é a própria solução",
                            nbt.strip_solution_markers(first.source))
    course = scratch_course([name])
    try:
        course.generate_release()
        course.submit("v", {name: nbt.fill_answers(nbt.read(course.release_dir / f"{name}.ipynb"),
                                                    {fake.cell: fake.code})})
        part = variants._grade_rounds(course.root, [("v", name, [fake])],
                                      {name: [nbt.grade_id(c) for c in source.cells if nbt.is_solution(c)]})
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
    assert len(part.outcomes) == 1 and not part.outcomes[0].ok
    assert "ACEITA" in variants.table(part)


def test_grading_is_deterministic():
    """The same submissions graded three times give the same score, cell by cell (Hypothesis is
    derandomized: the hidden tests draw the same examples on every run)."""
    from conftest import ROOT

    name = "03_perceptron_redes"
    catalogue = variants.load_catalogue(name)
    source = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
    wrong = {}
    for v in catalogue:
        if v.kind == "wrong" and v.cell not in wrong:
            wrong[v.cell] = v.code
    course = scratch_course([name])
    try:
        course.generate_release()
        release = nbt.read(course.release_dir / f"{name}.ipynb")
        course.submit("certo", {name: nbt.fill_answers(release, nbt.solution_sources(source))})
        course.submit("errado", {name: nbt.fill_answers(release, dict(nbt.solution_sources(source), **wrong))})
        api = course.api()
        runs = []
        for _ in range(3):
            for student in ("certo", "errado"):
                assert api.autograde(ASSIGNMENT, student)["success"]
            runs.append({s: gradebook.scores(course, s) for s in ("certo", "errado")})
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
    assert runs[0] == runs[1] == runs[2]
    assert runs[0]["certo"] != runs[0]["errado"]
