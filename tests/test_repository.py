"""Static checks of the repository: source notebooks, release/, badges (fast, no kernel)."""
from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ASSIGNMENT, NOTEBOOKS, ROOT
from course import badges, lint, notebooks as nbt
from course.workspace import scratch_course

SOURCES = [ROOT / "source" / ASSIGNMENT / f"{name}.ipynb" for name in NOTEBOOKS]


def test_the_four_lessons_are_there():
    assert sorted(p.stem for p in (ROOT / "source" / ASSIGNMENT).glob("*.ipynb")) == sorted(NOTEBOOKS)
    assert sorted(p.stem for p in (ROOT / "release" / ASSIGNMENT).glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_source_notebook_follows_the_authoring_rules(path):
    """nbformat 4.5+ with cell ids, no stored outputs, Colab badge, exercise layout (docs/AUTHORING.md)."""
    assert lint.lint_source(path) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_points_add_up_to_ten(path):
    nb = nbt.read(path)
    assert sum(nbt.nbgrader_meta(c).get("points", 0) for c in nb.cells if nbt.is_grade(c)) == 10


def test_lint_catches_a_broken_notebook(tmp_path):
    """The rules can fail: outputs, missing ids and a leaking test cell are reported."""
    original = SOURCES[0].read_bytes()
    raw = json.loads(SOURCES[0].read_text())
    raw["nbformat_minor"] = 4
    for cell in raw["cells"]:
        cell.pop("id", None)
    code = next(c for c in raw["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    code["execution_count"] = 1
    tests = [c for c in raw["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    tests[0]["source"] = "assert x == 1\n" * 5 + "".join(tests[0]["source"])  # tests in sight
    hidden = "".join(tests[1]["source"]).partition("### BEGIN HIDDEN TESTS")[2]
    tests[1]["source"] = "# só comentário\n### BEGIN HIDDEN TESTS" + hidden  # would pass untouched
    broken = tmp_path / SOURCES[0].name
    broken.write_text(json.dumps(raw))
    problems = " | ".join(lint.lint_source(broken))
    assert "4.5" in problems and "id" in problems and "saídas" in problems
    assert f"{tests[0]['metadata']['nbgrader']['grade_id']}: 6 linhas de código fora do bloco oculto" in problems
    assert f"{tests[1]['metadata']['nbgrader']['grade_id']}: falta, fora do bloco oculto, a chamada mínima" in problems
    assert SOURCES[0].read_bytes() == original  # the broken copy is a copy: the source is untouched


def test_release_is_what_nbgrader_generates_from_source(tmp_path):
    course = scratch_course(parent=tmp_path)
    course.generate_release()
    cmp = filecmp.dircmp(course.release_dir, ROOT / "release" / ASSIGNMENT)
    assert not (cmp.left_only or cmp.right_only), f"arquivos diferentes: {cmp.left_only} {cmp.right_only}"
    stale = [name for name in cmp.common_files
             if (course.release_dir / name).read_bytes() != (ROOT / "release" / ASSIGNMENT / name).read_bytes()]
    assert not stale, f"release/ desatualizado em {stale}: rode `make release`"
    shutil.rmtree(course.root)


def test_config_alone_generates_the_same_release(tmp_path):
    """nbgrader_config.py copied without course/ (e.g. to a JupyterHub course folder) still gives the
    Portuguese student version: if the config failed to load, nbgrader would fall back to its
    English stubs and only log the error."""
    shutil.copytree(ROOT / "source", tmp_path / "source")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stderr[-3000:]
    for name in NOTEBOOKS:
        generated = (tmp_path / "release" / ASSIGNMENT / f"{name}.ipynb").read_bytes()
        assert generated == (ROOT / "release" / ASSIGNMENT / f"{name}.ipynb").read_bytes(), name
    assert "SEU CÓDIGO AQUI" in generated.decode()


SOLUTION_BLOCKS = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)


def _secret_lines(source) -> set[str]:
    """Long code lines that only solutions and hidden tests contain."""
    secret: set[str] = set()
    for cell in source.cells:
        blocks = [m.group(0) for m in nbt.HIDDEN_TESTS.finditer(cell.source)]
        if nbt.is_solution(cell) and "### BEGIN SOLUTION" in cell.source:
            blocks.append(cell.source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0])
        secret |= {ln.strip() for b in blocks for ln in b.splitlines()
                   if len(ln.strip()) > 25 and not ln.strip().startswith("#")}
    # what the student is given: ordinary cells, and the scaffold around the solution blocks of an answer cell
    public = "\n".join(SOLUTION_BLOCKS.sub("", c.source) if nbt.is_solution(c) else c.source
                       for c in source.cells if not nbt.is_autograded_test(c))
    return {ln for ln in secret if ln not in public}


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_release_has_no_solution_and_no_hidden_tests(name):
    source = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
    text = (ROOT / "release" / ASSIGNMENT / f"{name}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    release = nbt.read(ROOT / "release" / ASSIGNMENT / f"{name}.ipynb")
    released_code = "\n".join(c.source for c in release.cells)
    secret = _secret_lines(source)
    assert secret, "o notebook deveria ter soluções e testes ocultos"
    leaked = sorted(ln for ln in secret if ln in released_code)
    assert not leaked, f"linhas de solução/testes ocultos na versão do aluno: {leaked[:5]}"


def test_release_stubs_are_in_portuguese():
    for name in NOTEBOOKS:
        release = nbt.read(ROOT / "release" / ASSIGNMENT / f"{name}.ipynb")
        answers = [c for c in release.cells if nbt.is_solution(c)]
        assert answers and all("# SEU CÓDIGO AQUI" in c.source and "raise NotImplementedError()" in c.source
                               for c in answers)


def test_colab_badges_follow_the_repository_slug():
    assert badges.update_badges(write=False) == [], "rode `make badges` (e `make release`)"


def test_nbgrader_does_not_pay_for_the_rfc3987_grammar_at_import():
    """Every nbgrader process (one per student in the grading) imports nbformat, hence jsonschema;
    jsonschema 4.24+ imports rfc3987-syntax, which builds a Lark grammar at import (1,2 s of CPU).
    requirements.txt pins jsonschema 4.23, which does not (bench/grading_profile.py prints the cost)."""
    code = "import sys, nbgrader.apps.nbgraderapp; print(sorted(m for m in sys.modules if m.startswith('rfc3987')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
