"""ProtectedExecute leaves the marked demo cells unrun under `nbgrader autograde` only (course.demos).

Runs real kernels (outside the sandbox): not in tests/unit."""
from __future__ import annotations

import copy

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course import demos, notebooks as nbt

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def marked(source: str):
    cell = new_code_cell(source)
    cell.metadata["tags"] = [demos.TAG]
    return cell


def notebook(*cells):
    return new_notebook(cells=list(cells), metadata={"kernelspec": KERNELSPEC})


def _execute(tmp_path, monkeypatch, execution: str | None, **traits):
    from traitlets.config import Config

    from course.execute import ProtectedExecute

    source = notebook(new_code_cell("x = 1"), marked("print('demonstração')"), new_code_cell("print(x + 1)"))
    folder = tmp_path / "source" / "tarefa"
    folder.mkdir(parents=True)
    nbt.write(source, folder / "aula.ipynb")
    if execution is None:
        monkeypatch.delenv(demos.EXECUTION_VAR, raising=False)
    else:
        monkeypatch.setenv(demos.EXECUTION_VAR, execution)
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    pre = ProtectedExecute(config=config, use_sandbox=False, timeout=60, **traits)
    resources = {"nbgrader": {"assignment": "tarefa", "notebook": "aula", "student": "a"},
                 "metadata": {"path": str(tmp_path)}}
    nb, _ = pre.preprocess(copy.deepcopy(source), resources)
    return ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]


def test_autograde_leaves_the_marked_demo_unrun_with_a_note(tmp_path, monkeypatch):
    assert _execute(tmp_path, monkeypatch, "autograde") == ["", demos.NOTE, "2\n"]


@pytest.mark.parametrize("execution", [None, "validate"])
def test_outside_autograde_every_cell_runs(tmp_path, monkeypatch, execution):
    assert _execute(tmp_path, monkeypatch, execution) == ["", "demonstração\n", "2\n"]


def test_skip_demo_cells_false_runs_every_cell(tmp_path, monkeypatch):
    assert _execute(tmp_path, monkeypatch, "autograde", skip_demo_cells=False) == ["", "demonstração\n", "2\n"]


def test_without_the_source_notebook_every_cell_runs(tmp_path, monkeypatch):
    from traitlets.config import Config

    from course.execute import ProtectedExecute

    monkeypatch.setenv(demos.EXECUTION_VAR, "autograde")
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    pre = ProtectedExecute(config=config, use_sandbox=False)
    nb = notebook(marked("print(1)"))
    assert pre._demo_cells(nb, {"nbgrader": {"assignment": "t", "notebook": "n", "student": "a"}}) == set()


