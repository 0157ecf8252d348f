"""Static checks of a source notebook against the course's authoring rules (docs/AUTHORING.md)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from . import demos, notebooks as nbt, pedagogy
from .settings import colab_url

TEST_SUFFIX = "_testes"
CHECK_SUFFIX = "_verificacao"
# a graded test cell shows only a minimal call to its exercise; the real tests stay hidden
MAX_VISIBLE_TEST_LINES = 4
EXERCISE_ID = re.compile(r"^ex\d+_[a-z0-9_]+$")


def lint_source(path: Path) -> list[str]:
    """Problems found in one source notebook (empty list: all good)."""
    problems: list[str] = []
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if (raw.get("nbformat"), raw.get("nbformat_minor", 0)) < (4, 5):
        problems.append("nbformat deve ser 4.5 ou mais novo (células com id)")
    nb = nbformat.reads(json.dumps(raw), as_version=4)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        problems.append(f"notebook inválido: {exc.message}")
    ks = nb.metadata.get("kernelspec", {})
    if ks.get("name") != "python3" or ks.get("language") != "python":
        problems.append("kernelspec deve ser python3 / language python")

    ids = [c.get("id") for c in nb.cells]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        problems.append("toda célula precisa de um id único")
    for c in nb.cells:
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None):
            problems.append(f"célula {c.get('id')} guarda saídas: o fonte é versionado sem saídas")
            break

    first = nb.cells[0].source if nb.cells else ""
    if colab_url(Path(path).stem) not in first:
        problems.append(f"a primeira célula deve trazer o selo 'Abrir no Colab' com {colab_url(Path(path).stem)}")

    grade_ids = [nbt.grade_id(c) for c in nb.cells if nbt.grade_id(c)]
    dup = {g for g in grade_ids if grade_ids.count(g) > 1}
    if dup:
        problems.append(f"grade_id repetido: {sorted(dup)}")

    solutions = [c for c in nb.cells if nbt.is_solution(c)]
    solution_ids = [nbt.grade_id(c) for c in solutions]
    for c in solutions:
        gid = nbt.grade_id(c)
        if not EXERCISE_ID.match(gid or ""):
            problems.append(f"célula de resposta {gid!r}: use o padrão exN_nome")
        if nbt.is_grade(c):
            problems.append(f"{gid}: respostas manuais não são usadas neste curso (grade=false)")
        if c.cell_type != "code" or "### BEGIN SOLUTION" not in c.source:
            problems.append(f"{gid}: a resposta deve ser código com ### BEGIN/END SOLUTION")
    tests = [c for c in nb.cells if nbt.is_autograded_test(c)]
    if len(solutions) == 0:
        problems.append("nenhum exercício (célula de resposta) encontrado")
    for gid in solution_ids:
        own = [t for t in tests if nbt.exercise_of(nbt.grade_id(t), solution_ids) == gid]
        if not any(nbt.grade_id(t) == gid + TEST_SUFFIX for t in own):
            problems.append(f"{gid}: falta a célula de testes ocultos {gid + TEST_SUFFIX}")
        checks = [c for c in nb.cells if nbt.grade_id(c) == gid + CHECK_SUFFIX]
        if not checks:
            problems.append(f"{gid}: falta a verificação visível {gid + CHECK_SUFFIX}")
        elif nbt.is_grade(checks[0]) or not nbt.nbgrader_meta(checks[0]).get("locked"):
            problems.append(f"{gid + CHECK_SUFFIX}: deve ser somente leitura e sem pontos")
    for t in tests:
        gid = nbt.grade_id(t)
        if nbt.exercise_of(gid, solution_ids) is None:
            problems.append(f"célula de teste {gid}: o id deve começar pelo id do exercício")
        if "### BEGIN HIDDEN TESTS" not in t.source:
            problems.append(f"{gid}: sem ### BEGIN HIDDEN TESTS")
        if not nbt.nbgrader_meta(t).get("points"):
            problems.append(f"{gid}: sem pontos")
        outside = [ln for ln in nbt.HIDDEN_TESTS.sub("", t.source).splitlines() if ln.strip()]
        code = [ln for ln in outside if not ln.lstrip().startswith("#")]
        if not code:
            # only comments would pass untouched (`nbgrader validate --invert` reports it as passing)
            problems.append(f"{gid}: falta, fora do bloco oculto, a chamada mínima ao exercício "
                            "(falha na versão não resolvida)")
        elif len(code) > MAX_VISIBLE_TEST_LINES:
            problems.append(f"{gid}: {len(code)} linhas de código fora do bloco oculto (máx. "
                            f"{MAX_VISIBLE_TEST_LINES}): os testes devem ficar ocultos")
    problems.extend(demos.problems(nb))
    problems.extend(pedagogy.lesson_problems(nb, Path(path).stem))
    return problems
