"""course.normalize: parse, repair and identify student files, on small in-memory notebooks."""
from __future__ import annotations

import json
import os
import re

import nbformat
import pytest

import builders as B
from course import normalize

SOURCE = B.lesson()
RELEASE = B.student_version(SOURCE)


def _solved() -> dict:
    nb = B.as_dict(RELEASE)
    for cell, src in zip(nb["cells"], SOURCE.cells):
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = src.source
    return nb


# --- parse ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, reason", [
    (b"", "arquivo vazio"),
    (b"  \n", "arquivo vazio"),
    (b"\xff\xfe\x00x", "não é texto UTF-8"),
    (b'{"cells": [', "JSON inválido (linha 1"),
    (b"[1, 2]", "não é um notebook Jupyter"),
    (b'{"metadata": {}}', "não é um notebook Jupyter"),
    (b'{"cells": [], "nbformat": 3}', "nbformat 3"),
])
def test_parse_rejects_what_is_not_a_notebook_with_a_reason(raw, reason):
    with pytest.raises(normalize.Unreadable, match=re.escape(reason)):
        normalize.parse(raw)


def test_parse_accepts_a_notebook_saved_with_a_byte_order_mark():
    raw = b"\xef\xbb\xbf" + json.dumps(_solved()).encode()
    assert normalize.parse(raw)["cells"]


# --- repair ---------------------------------------------------------------------------------------

def _colab(nb: dict) -> dict:
    nb = json.loads(json.dumps(nb))
    nb["nbformat_minor"] = 0
    nb["metadata"] = {"colab": {"provenance": []}, "accelerator": "GPU", "kernelspec": {"name": "python3"}}
    for cell in nb["cells"]:
        cell.pop("id")
        cell["metadata"]["colab"] = {"base_uri": "x"}
        cell["source"] = "".join(cell["source"]).splitlines(keepends=True)
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}]
            cell["execution_count"] = 3
    return nb


def test_repair_turns_a_colab_file_into_nbformat_4_5_without_its_metadata_and_outputs():
    nb, changes = normalize.repair(_colab(_solved()), RELEASE)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert "colab" not in nb.metadata and "accelerator" not in nb.metadata
    assert nb.metadata.kernelspec == RELEASE.metadata.kernelspec
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert all("colab" not in c.metadata for c in nb.cells)
    assert [c.source for c in nb.cells] == ["".join(c["source"]) for c in _solved()["cells"]]
    assert any("Colab" in ch for ch in changes) and any("4.0 para 4.5" in ch for ch in changes)


def test_repair_of_a_clean_notebook_changes_nothing_and_is_idempotent():
    nb, changes = normalize.repair(_solved(), RELEASE)
    assert changes == []
    again, changes = normalize.repair(json.loads(nbformat.writes(nb)), RELEASE)
    assert changes == [] and again == nb


def test_duplicated_answer_keeps_the_last_copy_and_duplicated_test_the_first():
    nb = _solved()
    answer = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex1_dobro")
    test = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex2_raiz_testes")
    first_try = dict(json.loads(json.dumps(answer)), id="tentativa", source="def dobro(x):\n    return x")
    nb["cells"].insert(nb["cells"].index(answer), first_try)
    twin = dict(json.loads(json.dumps(test)), id="gemea", source="pass  # copiei")
    nb["cells"].insert(nb["cells"].index(test) + 1, twin)
    repaired, changes = normalize.repair(nb, RELEASE)
    by_id = {c.id: c for c in repaired.cells}
    assert "nbgrader" not in by_id["tentativa"].metadata          # the earlier answer is now an ordinary cell
    assert by_id[answer["id"]].metadata.nbgrader["grade_id"] == "ex1_dobro"
    assert by_id[test["id"]].metadata.nbgrader["grade_id"] == "ex2_raiz_testes"  # the first test copy stays
    assert "nbgrader" not in by_id["gemea"].metadata
    assert B.grade_ids(repaired) == B.grade_ids(RELEASE)
    assert sum("copiada e colada" in ch for ch in changes) == 2


def test_unknown_grade_id_becomes_an_ordinary_cell():
    nb = _solved()
    i = B.first_code(nb)
    nb["cells"][i]["metadata"]["nbgrader"] = {"grade_id": "inventado", "grade": True, "points": 99}
    repaired, changes = normalize.repair(nb, RELEASE)
    assert "nbgrader" not in repaired.cells[i].metadata
    assert any("'inventado'" in ch for ch in changes)


def test_changed_cell_type_is_put_back():
    nb = _solved()
    test = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex1_dobro_testes")
    test["cell_type"] = "markdown"
    del test["outputs"], test["execution_count"]
    repaired, changes = normalize.repair(nb, RELEASE)
    fixed = next(c for c in repaired.cells if c.get("id") == test["id"])
    assert fixed.cell_type == "code" and fixed.outputs == []
    assert any("tipo trocado (markdown → code)" in ch for ch in changes)


def test_deleted_graded_cells_are_restored_in_place():
    nb = _solved()
    nb["cells"] = [c for c in nb["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade_id") not in ("ex1_dobro_testes", "ex2_raiz_testes")]
    repaired, changes = normalize.repair(nb, RELEASE)
    assert B.grade_ids(repaired) == B.grade_ids(RELEASE)
    assert any("ex1_dobro_testes, ex2_raiz_testes" in ch for ch in changes)


def test_repair_does_not_touch_its_input():
    nb = _colab(_solved())
    before = json.dumps(nb, sort_keys=True)
    normalize.repair(nb, RELEASE)
    assert json.dumps(nb, sort_keys=True) == before


# --- identify -------------------------------------------------------------------------------------

def test_identify_recognizes_a_lesson_by_its_graded_cells():
    other = B.lesson("01_outra")
    for cell in other.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["grade_id"] = "x_" + cell.metadata.nbgrader["grade_id"]
    releases = {B.NAME: RELEASE, "01_outra": other}
    assert normalize.identify(_solved(), releases) == B.NAME
    assert normalize.identify(B.as_dict(other), releases) == "01_outra"


def test_identify_needs_half_of_the_graded_cells():
    nb = _solved()
    ids = B.grade_ids(RELEASE)
    keep = set(ids[: len(ids) // 2 - 1])
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") in keep]
    assert normalize.identify(nb, {B.NAME: RELEASE}) is None
    assert normalize.identify({"cells": []}, {B.NAME: RELEASE}) is None


# --- a student's folder ---------------------------------------------------------------------------

def _folder(tmp_path, files: dict[str, bytes]):
    folder = tmp_path / "submitted" / "ana" / "modulo2"
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def _bytes(nb) -> bytes:
    return json.dumps(nb).encode()


def test_a_renamed_copy_is_renamed_and_its_original_kept(tmp_path):
    folder = _folder(tmp_path, {f"Cópia de {B.NAME} (1).ipynb": _bytes(_solved())})
    notes = normalize.normalize_student(folder, {B.NAME: RELEASE}, tmp_path / "originais", "ana")
    assert sorted(p.name for p in folder.iterdir()) == [f"{B.NAME}.ipynb"]
    assert (tmp_path / "originais" / "ana" / "modulo2" / f"Cópia de {B.NAME} (1).ipynb").exists()
    assert any("renomeado de" in n.message for n in notes)


def test_unreadable_and_unrelated_files_are_set_aside_and_the_lesson_counts_as_missing(tmp_path):
    unrelated = B.as_dict(B.lesson("zz"))
    for cell in unrelated["cells"]:
        cell["metadata"].pop("nbgrader", None)
    folder = _folder(tmp_path, {f"{B.NAME}.ipynb": b'{"cells": [', "outro.ipynb": _bytes(unrelated)})
    notes = normalize.normalize_student(folder, {B.NAME: RELEASE}, tmp_path / "originais", "ana")
    assert list(folder.iterdir()) == []
    text = " | ".join(f"{n.file}: {n.message}" for n in notes)
    assert "JSON inválido" in text and "outro.ipynb: não corresponde a nenhum notebook" in text
    assert f"{B.NAME}.ipynb: notebook não entregue: nota 0" in text


def test_two_files_for_one_lesson_keep_the_exact_name(tmp_path):
    folder = _folder(tmp_path, {f"{B.NAME}.ipynb": _bytes(_solved()), f"{B.NAME} (2).ipynb": _bytes(_solved())})
    os.utime(folder / f"{B.NAME}.ipynb", (1, 1))  # older, but it has the right name
    notes = normalize.normalize_student(folder, {B.NAME: RELEASE}, tmp_path / "originais", "ana")
    assert [p.name for p in folder.iterdir()] == [f"{B.NAME}.ipynb"]
    assert any(n.file == f"{B.NAME} (2).ipynb" and "mais de um arquivo" in n.message for n in notes)


def test_a_notebook_nbformat_rejects_is_set_aside_as_invalid(tmp_path):
    nb = _solved()
    nb["cells"][B.first_code(nb)]["metadata"]["collapsed"] = "sim"  # the schema wants a boolean
    folder = _folder(tmp_path, {f"{B.NAME}.ipynb": _bytes(nb)})
    notes = normalize.normalize_student(folder, {B.NAME: RELEASE}, tmp_path / "originais", "ana")
    assert not (folder / f"{B.NAME}.ipynb").exists()
    assert any("notebook inválido que não pôde ser reparado" in n.message and "'sim' is not of type" in n.message
               for n in notes)


def test_a_bug_in_the_repair_code_is_a_bug_not_a_students_zero(tmp_path, monkeypatch):
    """Only what nbformat rejects is the student's fault; an error of ours must stop the batch."""
    def broken(data, release_nb):
        raise TypeError("bug do corretor")

    monkeypatch.setattr(normalize, "repair", broken)
    folder = _folder(tmp_path, {f"{B.NAME}.ipynb": _bytes(_solved())})
    with pytest.raises(TypeError, match="bug do corretor"):
        normalize.normalize_student(folder, {B.NAME: RELEASE}, tmp_path / "originais", "ana")
    assert (folder / f"{B.NAME}.ipynb").exists()


@pytest.mark.parametrize("mangle", [
    lambda c: c["metadata"].__setitem__("nbgrader", "ex1_dobro"),
    lambda c: c["metadata"]["nbgrader"].__setitem__("grade_id", ["ex1_dobro"]),
    lambda c: c.__setitem__("source", ["def dobro(x):\n", 2]),
    lambda c: c.__setitem__("metadata", None),
])
def test_odd_student_json_is_repaired_or_set_aside_never_a_crash(tmp_path, mangle):
    nb = _solved()
    mangle(next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex1_dobro"))
    folder = _folder(tmp_path, {f"{B.NAME}.ipynb": _bytes(nb)})
    notes = normalize.normalize_student(folder, {B.NAME: RELEASE}, tmp_path / "originais", "ana")
    if (folder / f"{B.NAME}.ipynb").exists():
        repaired = nbformat.read(folder / f"{B.NAME}.ipynb", as_version=4)
        nbformat.validate(repaired)
        assert B.grade_ids(repaired) == B.grade_ids(RELEASE)
    else:
        assert any("notebook inválido" in n.message for n in notes)


def test_a_rerun_reports_what_the_first_run_set_aside_in_the_same_order(tmp_path):
    """The second run finds the broken file already set aside: its notes come from ocorrencias.json, first."""
    _folder(tmp_path, {f"{B.NAME}.ipynb": b'{"cells": [', "leia-me.txt": b"oi"})
    run = lambda: normalize.normalize_all(tmp_path / "submitted", "modulo2", {B.NAME: RELEASE},  # noqa: E731
                                          tmp_path / "originais")
    first = run()["ana"]
    assert [n.message.split(" (")[0] for n in first][:1] == ["JSON inválido"]
    assert run()["ana"] == first
