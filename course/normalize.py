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


# What repair() does, step by step, against nbgrader's own sanitize steps at autograde (ClearOutput,
# DeduplicateIds, OverwriteKernelspec, OverwriteCells). Only what nbgrader does not do, or does in a way that
# would cost the student points or crash the batch, is kept:
#
# - drop what is not a cell (`_drop_non_cells`): nbgrader has no step; nbformat refuses the whole file.
# - Colab metadata off (`_clean_metadata`, `_clean_cells`): no step; those keys are invalid in nbformat 4.5.
# - kernelspec and language_info from the release (`_clean_metadata`): OverwriteKernelspec does it at
#   autograde, but a Colab kernelspec may lack `display_name`, and the file must validate first.
# - source as text, valid unique cell ids (`_clean_cells`): no step; nbformat.validator.normalize would make
#   random ids, these are deterministic (a re-run normalizes a file to the same bytes).
# - outputs cleared (`_clear_outputs`): ClearOutput does it at autograde, but Colab outputs can be
#   schema-invalid and the file must validate first.
# - duplicated grade ids (`_deduplicate`): DeduplicateIds keeps the first copy; the student's answer is the
#   LAST copy pasted, and the report says what happened.
# - unknown grade id → ordinary cell (`_deduplicate`): no step; nothing outside the release is graded.
# - cell type put back (`_restore_types`): OverwriteCells does it silently; here the report tells the instructor.
# - deleted cells restored (`_restore_deleted`): OverwriteCells re-adds grade cells only, and fails (KeyError)
#   when the cell before the missing one is a read-only cell that is missing too.


def _drop_non_cells(data: dict, changes: list[str]) -> list[dict]:
    cells = [c for c in data.get("cells", [])
             if isinstance(c, dict) and c.get("cell_type") in ("code", "markdown", "raw")]
    if len(cells) != len(data.get("cells", [])):
        changes.append("células inválidas removidas")
    return cells


def _clean_metadata(data: dict, release_nb, changes: list[str]) -> dict:
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
    return meta


def _clear_outputs(cell: dict) -> None:
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
        cell.pop("attachments", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _new_id(seed: str, seen: set[str]) -> str:
    cid = hashlib.sha1(seed.encode()).hexdigest()[:12]
    while cid in seen:
        cid = hashlib.sha1(cid.encode()).hexdigest()[:12]
    return cid


def _clean_cells(cells: list[dict], changes: list[str]) -> set[str]:
    """Colab keys and broken nbgrader metadata off, source as text, valid unique ids, no outputs."""
    seen: set[str] = set()
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
        if not isinstance(cid, str) or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", cid) or cid in seen:
            cid = _new_id(f"{index}:{cell['source']}", seen)
        cell["id"] = cid
        seen.add(cid)
        _clear_outputs(cell)
    return seen


def _gid(cell: dict) -> str | None:
    return cell["metadata"].get("nbgrader", {}).get("grade_id")


def _deduplicate(cells: list[dict], release_cells: dict, changes: list[str]) -> None:
    """Duplicated graded cells: keep the last copy of an answer, the first of anything else; unknown ids off."""
    by_id: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        if _gid(cell):
            by_id.setdefault(_gid(cell), []).append(index)
    for gid, places in by_id.items():
        if len(places) > 1:
            keep = places[-1] if gid in release_cells and nbt.is_solution(release_cells[gid]) else places[0]
            for index in places:
                if index != keep:
                    del cells[index]["metadata"]["nbgrader"]
            changes.append(f"célula avaliada '{gid}' aparecia {len(places)} vezes (copiada e colada): "
                           "mantida uma, as cópias viraram células comuns")
        elif gid not in release_cells:
            del cells[places[0]]["metadata"]["nbgrader"]
            changes.append(f"célula com id de correção desconhecido '{gid}' virou célula comum")


def _restore_types(cells: list[dict], release_cells: dict, changes: list[str]) -> None:
    for cell in cells:
        gid = _gid(cell)
        if not gid:
            continue
        wanted = release_cells[gid].cell_type
        if cell["cell_type"] != wanted:
            changes.append(f"célula '{gid}' tinha o tipo trocado ({cell['cell_type']} → {wanted}): restaurado")
            cell["cell_type"] = wanted
            _clear_outputs(cell)


def _restore_deleted(cells: list[dict], release_nb, release_cells: dict, seen: set[str],
                     changes: list[str]) -> None:
    """Graded and read-only cells the student deleted come back, after the closest earlier one still there."""
    order = [nbt.grade_id(c) for c in release_nb.cells if nbt.grade_id(c)]
    restored = []
    for position, gid in enumerate(order):
        if gid in {_gid(c) for c in cells}:
            continue
        at = 0
        for earlier in reversed(order[:position]):
            found = [i for i, c in enumerate(cells) if _gid(c) == earlier]
            if found:
                at = found[0] + 1
                break
        fresh = copy.deepcopy(dict(release_cells[gid]))
        fresh["id"] = _new_id(f"restaurada:{gid}", seen)
        seen.add(fresh["id"])
        cells.insert(at, fresh)
        restored.append(gid)
    if restored:
        changes.append("células apagadas foram restauradas: " + ", ".join(restored))


def repair(data: dict, release_nb) -> tuple[nbformat.NotebookNode, list[str]]:
    """A valid nbformat-4.5 notebook with the release's graded structure, and what was changed."""
    changes: list[str] = []
    data = copy.deepcopy(data)
    cells = _drop_non_cells(data, changes)
    meta = _clean_metadata(data, release_nb, changes)
    seen = _clean_cells(cells, changes)
    release_cells = {nbt.grade_id(c): c for c in release_nb.cells if nbt.grade_id(c)}
    _deduplicate(cells, release_cells, changes)
    _restore_types(cells, release_cells, changes)
    _restore_deleted(cells, release_nb, release_cells, seen, changes)
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
