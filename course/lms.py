"""Submissions downloaded from an LMS (Moodle's "Baixar todas as submissões").

Moodle names each student's folder `<Nome Completo>_<id do participante>_assignsubmission_file_/`
with the uploaded files inside. The participant id becomes the nbgrader student id and the full
name goes to the gradebook. To adapt to another LMS, change `MOODLE_PATTERN` (it must capture
`student_id`, `file_id` and may capture `nome`) or point `ZipCollectApp.collector_plugin` at a
subclass of `MoodleCollector`.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from traitlets import Unicode

from nbgrader.plugins import FileNameCollectorPlugin

MOODLE_PATTERN = (r"(?:.*/)?(?P<nome>[^/]+?)_(?P<student_id>\d+)_assignsubmission_(?:file|onlinetext)_"
                  r"/(?:.*/)?(?P<file_id>[^/]+)$")


class MoodleCollector(FileNameCollectorPlugin):
    """`nbgrader zip_collect` plugin for Moodle's download-all layout."""

    named_regexp = Unicode(MOODLE_PATTERN).tag(config=True)

    def collect(self, submitted_file: str):
        info = super().collect(unicodedata.normalize("NFC", submitted_file))
        if info:
            info.pop("nome", None)
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
            names[info["student_id"]] = info.get("nome") or ""
    return names, skipped
