"""Make every submitted notebook gradable, and say in Portuguese what was done.

Runs before `nbgrader autograde` on each student's folder in `submitted/`:

- unreadable files (empty, malformed JSON, not a notebook) are moved aside: the notebook then
  counts as missing, which nbgrader scores 0;
- a notebook under another name (`Cópia de 01_….ipynb`, `01_… (1).ipynb`, …) is recognised by its
  graded cells and renamed;
- files saved by Google Colab (nbformat 4.0–4.4 without cell ids, `colab` metadata, kernelspec
  without `language`, stored outputs) become nbformat 4.5 like JupyterLab's;
- copy-pasted graded cells (duplicate grade ids, which stop nbgrader 0.9.6) keep one copy;
- graded and read-only cells that were deleted or whose type was changed are put back from the
  student version (nbgrader then restores their exact source from the gradebook).

Every file changed or moved keeps its original bytes under `originais/`, and the notes of each
student are kept next to them (`ocorrencias.json`) so a re-run reports them again.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

import nbformat

from . import notebooks as nbt

COLAB_NOTEBOOK_KEYS = ("colab", "accelerator", "gpuClass", "widgets")
COLAB_CELL_KEYS = ("colab", "colab_type", "outputId", "id", "executionInfo")
NOTES_FILE = "ocorrencias.json"


class Level(StrEnum):
    """How much a note matters; the value is the Portuguese label the reports show."""
    INFO = "info"        # internal detail, left out of the reports
    WARNING = "aviso"    # the submission was changed or set aside, nothing lost
    ERROR = "erro"       # the student loses points for it (or nothing could be graded)


@dataclass
class Note:
    student: str
    file: str
    level: Level
    message: str

    def __post_init__(self):
        self.level = Level(self.level)  # also from the JSON of ocorrencias.json / the ledger


class Unreadable(ValueError):
    pass


def parse(raw: bytes) -> dict:
    """The notebook's JSON as a dict, or Unreadable with a Portuguese reason."""
    if not raw.strip():
        raise Unreadable("arquivo vazio")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise Unreadable("o arquivo não é texto UTF-8 (não é um notebook)") from None
    except json.JSONDecodeError as exc:
        raise Unreadable(f"JSON inválido (linha {exc.lineno}, coluna {exc.colno}): o arquivo está corrompido "
                         "ou foi editado fora do Jupyter") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise Unreadable("o arquivo não é um notebook Jupyter (sem lista de células)")
    if data.get("nbformat") != 4:
        raise Unreadable(f"formato de notebook não suportado (nbformat {data.get('nbformat')!r})")
    return data


def _graded_ids(nb: dict) -> set[str]:
    return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            for c in nb.get("cells", []) if isinstance(c, dict)} - {None}


def _source_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(map(str, src)) if isinstance(src, list) else str(src)


def _grading_metadata_ok(cmeta: dict) -> bool:
    """nbgrader's cell metadata, when present, is a dict whose grade_id (if any) is a string."""
    meta = cmeta.get("nbgrader")
    return meta is None or (isinstance(meta, dict) and isinstance(meta.get("grade_id", ""), str))


def repair(data: dict, release_nb) -> tuple[nbformat.NotebookNode, list[str]]:
    """A valid nbformat-4.5 notebook with the release's graded structure, and what was changed."""
    changes: list[str] = []
    data = copy.deepcopy(data)
    cells = [c for c in data.get("cells", [])
             if isinstance(c, dict) and c.get("cell_type") in ("code", "markdown", "raw")]
    if len(cells) != len(data.get("cells", [])):
        changes.append("células inválidas removidas")

    # Colab and other front ends: metadata, ids, outputs
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    if any(k in meta for k in COLAB_NOTEBOOK_KEYS):
        changes.append("metadados do Colab removidos")
    for key in COLAB_NOTEBOOK_KEYS:
        meta.pop(key, None)
    meta["kernelspec"] = dict(release_nb.metadata.get("kernelspec", {}))
    meta["language_info"] = dict(release_nb.metadata.get("language_info", {"name": "python"}))
    minor = data.get("nbformat_minor", 0)
    minor = minor if isinstance(minor, int) else 0
    if minor < 5:
        changes.append(f"convertido do nbformat 4.{minor} para 4.5 (ids de célula)")
    seen_ids: set[str] = set()
    for index, cell in enumerate(cells):
        cmeta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        for key in COLAB_CELL_KEYS:
            cmeta.pop(key, None)
        if not _grading_metadata_ok(cmeta):
            del cmeta["nbgrader"]
            changes.append(f"metadados do nbgrader inválidos removidos da célula {index + 1}")
        cell["metadata"] = cmeta
        cell["source"] = _source_text(cell)
        cid = cell.get("id")
        if not isinstance(cid, str) or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", cid) or cid in seen_ids:
            cid = hashlib.sha1(f"{index}:{cell['source']}".encode()).hexdigest()[:12]
            while cid in seen_ids:
                cid = hashlib.sha1(cid.encode()).hexdigest()[:12]
        cell["id"] = cid
        seen_ids.add(cid)
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            cell.pop("attachments", None)
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)

    # duplicated graded cells: keep the last copy of an answer, the first of anything else
    by_id: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid:
            by_id.setdefault(gid, []).append(index)
    release_cells = {nbt.grade_id(c): c for c in release_nb.cells if nbt.grade_id(c)}
    for gid, places in by_id.items():
        if len(places) > 1:
            keep = places[-1] if nbt.is_solution(release_cells.get(gid, {"metadata": {}})) else places[0]
            for index in places:
                if index != keep:
                    del cells[index]["metadata"]["nbgrader"]
            changes.append(f"célula avaliada '{gid}' aparecia {len(places)} vezes (copiada e colada): "
                           "mantida uma, as cópias viraram células comuns")
        elif gid not in release_cells:
            del cells[places[0]]["metadata"]["nbgrader"]
            changes.append(f"célula com id de correção desconhecido '{gid}' virou célula comum")

    # graded / read-only cells: right type, and put back when deleted
    present = {}
    for index, cell in enumerate(cells):
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid:
            present[gid] = index
    for gid, index in present.items():
        wanted = release_cells[gid].cell_type
        if cells[index]["cell_type"] != wanted:
            changes.append(f"célula '{gid}' tinha o tipo trocado ({cells[index]['cell_type']} → {wanted}): restaurado")
            cells[index]["cell_type"] = wanted
            if wanted == "code":
                cells[index].update(outputs=[], execution_count=None)
                cells[index].pop("attachments", None)
            else:
                cells[index].pop("outputs", None)
                cells[index].pop("execution_count", None)
    order = [nbt.grade_id(c) for c in release_nb.cells if nbt.grade_id(c)]
    restored = []
    for position, gid in enumerate(order):
        if gid in {c["metadata"].get("nbgrader", {}).get("grade_id") for c in cells}:
            continue
        # after the closest earlier graded/read-only cell still in the notebook
        at = 0
        for earlier in reversed(order[:position]):
            found = [i for i, c in enumerate(cells)
                     if c["metadata"].get("nbgrader", {}).get("grade_id") == earlier]
            if found:
                at = found[0] + 1
                break
        fresh = copy.deepcopy(dict(release_cells[gid]))
        fresh["id"] = hashlib.sha1(f"restaurada:{gid}".encode()).hexdigest()[:12]
        while fresh["id"] in seen_ids:
            fresh["id"] = hashlib.sha1(fresh["id"].encode()).hexdigest()[:12]
        seen_ids.add(fresh["id"])
        cells.insert(at, fresh)
        restored.append(gid)
    if restored:
        changes.append("células apagadas foram restauradas: " + ", ".join(restored))

    data.update(cells=cells, metadata=meta, nbformat=4, nbformat_minor=5)
    nb = nbformat.from_dict(data)
    nbformat.validate(nb)
    return nb, changes


def identify(data: dict, releases: dict[str, nbformat.NotebookNode]) -> str | None:
    """Which lesson notebook a file is, judging by its graded cells (None: none of them)."""
    ids = _graded_ids(data)
    best, best_share = None, 0.0
    for name, release_nb in releases.items():
        expected = {nbt.grade_id(c) for c in release_nb.cells if nbt.grade_id(c)}
        share = len(ids & expected) / max(1, len(expected))
        if share > best_share:
            best, best_share = name, share
    return best if best_share >= 0.5 else None


def normalize_student(folder: Path, releases: dict[str, nbformat.NotebookNode], originals: Path,
                      student: str) -> list[Note]:
    """Normalize one student's submission folder in place; return the notes."""
    notes: list[Note] = []
    keep_dir = originals / student / folder.name

    def keep_original(path: Path) -> None:
        dest = keep_dir / path.name
        if not dest.exists() or dest.read_bytes() != path.read_bytes():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)

    def set_aside(path: Path, why: str) -> None:
        keep_original(path)
        path.unlink()
        notes.append(Note(student, path.name, Level.ERROR,
                          f"{why}; o arquivo foi guardado em {(keep_dir / path.name)} e não foi corrigido"))

    candidates: dict[str, list[tuple[Path, dict]]] = {}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            data = parse(path.read_bytes())
        except Unreadable as exc:
            set_aside(path, str(exc))
            continue
        name = path.stem if path.stem in releases else identify(data, releases)
        if name is None:
            set_aside(path, "não corresponde a nenhum notebook da tarefa")
            continue
        candidates.setdefault(name, []).append((path, data))

    for name, found in candidates.items():
        target = folder / f"{name}.ipynb"
        # the file with the exact name wins; else the most recently modified one
        found.sort(key=lambda pd: (pd[0] != target, -pd[0].stat().st_mtime))
        path, data = found[0]
        for other, _ in found[1:]:
            set_aside(other, f"há mais de um arquivo para {name}.ipynb; foi usado '{path.name}'")
        try:
            nb, changes = repair(data, releases[name])
        except nbformat.ValidationError as exc:  # what nbformat rejects; any other error is a bug of ours
            set_aside(path, f"notebook inválido que não pôde ser reparado ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        if path != target:
            changes.insert(0, f"renomeado de '{path.name}' para '{target.name}'")
        new_text = nbformat.writes(nb) + "\n"
        if changes or path.read_text(encoding="utf-8", errors="replace") != new_text:
            keep_original(path)
            if path != target:
                path.unlink()
            target.write_text(new_text, encoding="utf-8")
        for change in changes:
            notes.append(Note(student, target.name, Level.WARNING, change))

    for name in releases:
        if not (folder / f"{name}.ipynb").exists():
            notes.append(Note(student, f"{name}.ipynb", Level.ERROR, "notebook não entregue: nota 0"))
    return notes


def normalize_all(submitted: Path, assignment: str, releases: dict[str, nbformat.NotebookNode],
                  originals: Path, students: list[str] | None = None) -> dict[str, list[Note]]:
    """Normalize every student's folder; notes of earlier runs are merged in (a re-run reports them)."""
    out: dict[str, list[Note]] = {}
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        student = student_dir.name
        if students and student not in students:
            continue
        folder = student_dir / assignment
        if not folder.is_dir():
            out[student] = [Note(student, "", Level.ERROR, f"a entrega não tem a pasta {assignment}/")]
            continue
        notes = normalize_student(folder, releases, originals, student)
        record = originals / student / assignment / NOTES_FILE
        earlier = []
        if record.exists():
            earlier = [Note(**n) for n in json.loads(record.read_text(encoding="utf-8"))]
        # what an earlier run set aside comes first, as it did then: a re-run reports in the same order
        merged = [n for n in earlier if n not in notes and n.level == Level.ERROR
                  and not (folder / n.file).exists() and "não entregue" not in n.message] + notes
        if notes:
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps([asdict(n) for n in merged], ensure_ascii=False, indent=1),
                              encoding="utf-8")
        out[student] = merged
    return out
