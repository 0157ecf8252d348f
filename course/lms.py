"""Submissions downloaded from an LMS (Moodle's "Baixar todas as submissões").

Moodle names each student's folder `<Nome Completo>_<id do participante>_assignsubmission_file_/`
with the uploaded files inside. The participant id becomes the nbgrader student id and the full
name goes to the gradebook. To adapt to another LMS, change `MOODLE_PATTERN` (it must capture
`student_id`, `file_id` and may capture `name`) or point `ZipCollectApp.collector_plugin` at a
subclass of `MoodleCollector`.
"""
from __future__ import annotations

import io
import re
import stat
import unicodedata
import zipfile
import zlib
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Unicode

MOODLE_PATTERN = (r"(?:.*/)?(?P<name>[^/]+?)_(?P<student_id>\d+)_assignsubmission_(?:file|onlinetext)_"
                  r"/(?:.*/)?(?P<file_id>[^/]+)$")


class MoodleCollector(FileNameCollectorPlugin):
    """`nbgrader zip_collect` plugin for Moodle's download-all layout."""

    named_regexp = Unicode(MOODLE_PATTERN).tag(config=True)

    def collect(self, submitted_file: str):
        info = super().collect(unicodedata.normalize("NFC", submitted_file))
        if info:
            info.pop("name", None)
        return info


def match(relative_path: str, pattern: str = MOODLE_PATTERN) -> dict | None:
    m = re.match(pattern, unicodedata.normalize("NFC", relative_path))
    return m.groupdict() if m else None


def scan(extracted: Path, pattern: str = MOODLE_PATTERN) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(student id -> full name, [(file, why it is not collected)]) under an extracted download."""
    names: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    for path in sorted(p for p in extracted.rglob("*") if p.is_file()):
        rel = path.relative_to(extracted).as_posix()
        info = match(rel, pattern)
        if not info:
            skipped.append((rel, "o caminho não segue o padrão do Moodle (<Nome>_<id>_assignsubmission_file_/arquivo)"))
        elif path.suffix != ".ipynb":
            skipped.append((rel, f"não é um notebook .ipynb (aluno {info['student_id']})"))
        else:
            names[info["student_id"]] = info.get("name") or ""
    return names, skipped


# --- the download itself: only safe, readable members reach nbgrader's extraction -------------------

NESTED_ARCHIVES = (".zip",)
NOT_OPENED = (".gz", ".tgz", ".tar", ".rar", ".7z")
MAX_MEMBER_MB = 100


def _unsafe(name: str) -> str | None:
    """Why this member name would land outside the extraction folder (None: it is safe)."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "caminho absoluto"
    if ".." in parts:
        return "caminho com '..'"
    return None


def _copy_safe(src: zipfile.ZipFile, dst: zipfile.ZipFile, prefix: str, skipped: list[tuple[str, str]]) -> None:
    for info in src.infolist():
        shown = prefix + info.filename
        why = _unsafe(info.filename)
        if why:
            skipped.append((shown, f"{why}: cairia fora da pasta de extração; o arquivo foi ignorado"))
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            skipped.append((shown, "link simbólico dentro do zip; o arquivo foi ignorado"))
            continue
        if info.is_dir():
            dst.writestr(info, b"")
            continue
        if info.file_size > MAX_MEMBER_MB * 1024 * 1024:
            skipped.append((shown, f"arquivo com mais de {MAX_MEMBER_MB} MB descompactado; ignorado"))
            continue
        try:
            data = src.read(info)  # checks the CRC; an encrypted or damaged member fails here
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error) as exc:
            skipped.append((shown, f"não foi possível ler este arquivo do zip ({type(exc).__name__}); ignorado"))
            continue
        lower = info.filename.lower()
        if lower.endswith(NESTED_ARCHIVES):
            # nbgrader also extracts a zip inside the zip: it gets the same screening
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    buf = io.BytesIO()
                    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
                        _copy_safe(inner, out, shown + "/", skipped)
                    data = buf.getvalue()
            except zipfile.BadZipFile:
                skipped.append((shown, "zip dentro do zip não pôde ser aberto; ignorado"))
                continue
        elif lower.endswith(NOT_OPENED):
            skipped.append((shown, "arquivo compactado dentro do zip não é aberto (envie o .ipynb); ignorado"))
            continue
        dst.writestr(info, data)


def safe_copy(zip_path: Path, dest: Path) -> list[tuple[str, str]]:
    """Write to `dest` a copy of the LMS download with only its safe, readable members.

    Returns [(member, why it was left out)]. A file that is not a zip at all gives one entry and no copy."""
    skipped: list[tuple[str, str]] = []
    try:
        with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as dst:
            _copy_safe(src, dst, "", skipped)
    except (zipfile.BadZipFile, OSError) as exc:
        dest.unlink(missing_ok=True)
        skipped.append((Path(zip_path).name, f"não é um zip legível ({exc}); nada foi coletado dele"))
    return skipped
