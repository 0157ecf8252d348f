"""Small in-memory notebooks for the unit tests (no kernel, no nbgrader run)."""
from __future__ import annotations

import copy
import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.settings import colab_url

NAME = "00_unidade"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def graded(cell, grade_id: str, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def exercise(gid: str, answer: str, check: str, call: str, hidden: str, points: int = 1) -> list:
    """An exercise as docs/AUTHORING.md lays it out: answer, visible check, graded tests."""
    return [
        new_markdown_cell(f"### {gid}"),
        graded(new_code_cell(f"### BEGIN SOLUTION\n{answer}\n### END SOLUTION"), gid, solution=True),
        graded(new_code_cell(check), f"{gid}_verificacao", locked=True),
        graded(new_code_cell(f"{call}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS"),
               f"{gid}_testes", grade=True, locked=True, points=points),
    ]


def answer(text: str) -> str:
    return f"<details><summary>Resposta</summary>\n\n{text}\n\n</details>"


def pense(question: str, reply: str) -> str:
    """A "Pense!" prompt with its answer, as docs/AUTHORING.md asks for in every numbered section."""
    return f"**Pense!** {question}\n\n{answer(reply)}"


def self_assessment(questions: int) -> str:
    items = "\n\n".join(f"**{i}.** Pergunta {i}?\n\n{answer(f'Resposta {i}.')}" for i in range(1, questions + 1))
    return f"## Autoavaliação\n\n{items}"


def lesson(name: str = NAME) -> nbformat.NotebookNode:
    """A source notebook that follows every authoring rule (lint finds nothing)."""
    cells = [
        new_markdown_cell(f"# Aula\n\n[![Abrir no Colab](x.svg)]({colab_url(name)})"),
        new_markdown_cell("No Colab, use *Arquivo > Salvar uma cópia no Drive* para não perder o trabalho."),
        new_code_cell("import math"),
        new_markdown_cell(f"## 1. Dobro e raiz\n\n{pense('Quanto vale o dobro de 0,5?', '1.')}"),
        *exercise("ex1_dobro", "def dobro(x):\n    return 2 * x", "assert dobro(2) == 4", "dobro(1)",
                  "assert dobro(3) == 6", points=3),
        *exercise("ex2_raiz", "def raiz(x):\n    return math.sqrt(x)", "assert raiz(9) == 3", "raiz(4)",
                  "assert raiz(16) == 4", points=2),
        new_markdown_cell("## Resumo\n\nDobro e raiz."),
        new_markdown_cell(self_assessment(5)),
    ]
    nb = new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC),
                                             "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


def student_version(source) -> nbformat.NotebookNode:
    """What nbgrader's generate_assignment makes of `lesson()` (stubs, hidden tests removed)."""
    nb = copy.deepcopy(source)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = "# SEU CÓDIGO AQUI\nraise NotImplementedError()"
        elif meta.get("grade"):
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    return nb


def as_dict(nb) -> dict:
    """A notebook as the JSON a file holds (what normalize.parse returns)."""
    return json.loads(nbformat.writes(nb))


def first_code(nb) -> int:
    """Index of the first code cell (the lesson's setup cell)."""
    return next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")


def grade_ids(nb) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
