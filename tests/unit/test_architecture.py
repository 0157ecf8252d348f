"""The grading core's layout (issue 12): one module per stage, one module that touches the gradebook."""
from __future__ import annotations

import ast
from pathlib import Path

from course.settings import ROOT

COURSE = ROOT / "course"
GRADEBOOK_MODULE = COURSE / "grading" / "gradebook.py"
STAGES = ("collect", "autograde", "engine", "worker", "record", "gradebook", "feedback", "export", "report")


def _modules():
    return sorted(p for p in COURSE.rglob("*.py") if "__pycache__" not in p.parts)


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {a.name for a in node.names}
    return names


def test_only_the_gradebook_module_opens_a_gradebook():
    opening = [p.relative_to(ROOT) for p in _modules() if "Gradebook" in _names_used(p) and p != GRADEBOOK_MODULE]
    assert not opening, f"só course/grading/gradebook.py abre o gradebook do nbgrader; também abrem: {opening}"
    assert "Gradebook" in _names_used(GRADEBOOK_MODULE)


def test_each_stage_is_its_own_module_of_the_grading_package():
    present = {p.stem for p in (COURSE / "grading").glob("*.py")}
    assert set(STAGES) <= present, f"faltam estágios: {set(STAGES) - present}"


def test_the_stages_never_import_the_pipeline_back_at_module_level():
    """Data flows one way: a stage module does not import the package's pipeline (`grading/__init__`) on load."""
    for stage in STAGES:
        tree = ast.parse((COURSE / "grading" / f"{stage}.py").read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
                imported = {a.name for a in node.names}
                assert imported <= set(STAGES), f"grading/{stage}.py importa {imported - set(STAGES)} do pacote"
