"""Grades and feedback back into Moodle (the LMS export stage of `make corrigir` with a Moodle zip).

Writes, under `<curso>/moodle/`:

- `planilha_notas.csv` and `grading_worksheet_en.csv`: the assignment's offline grading worksheet, for
  *Ação de avaliação → Carregar planilha de notas* (Portuguese interface) or *Grading action → Upload
  grading worksheet* (English interface). Moodle's importer (mod/assign/feedback/offline/
  importgradeslib.php) finds its columns by their header, in the language of the person importing:
  `get_string('recordid', 'assign')` (Identificador / Identifier), `get_string('grade')` (Nota / Grade)
  and `get_string('lastmodifiedgrade', 'assign')` (Última modificação (nota) / Last modified (grade))
  are required, and the feedback plugin's column is matched by its name (Comentários de feedback /
  Feedback comments). It takes the participant id from the identifier by cutting off the length of
  `get_string('hiddenuser', 'assign')` — 'Participante' in pt_br, 'Participant ' in English, 12
  characters either way — so "Participante101" and "Participant 101" (how Moodle itself writes them,
  gradingtable.php `col_recordid`) both give 101.
- `devolutivas_feedback.zip`: each student's HTML feedback, for *Enviar vários arquivos de feedback em
  um zip* / *Upload multiple feedback files in a zip*. Moodle's importer (mod/assign/feedback/file/
  importziplib.php) splits each folder name at `_` (at most 5 parts) and takes the 2nd part as the
  participant id and the 3rd and 4th as the plugin: the download layout
  `<Nome Completo>_<id>_assignsubmission_file_/<arquivo>` is matched.
- `relatorio_moodle.csv`: one row per participant (what went into each file, or why not).

Only participants known from the Moodle zip get a row: the participant id is the nbgrader student id.
"""
from __future__ import annotations

import csv
import html
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import lms, normalize
from .settings import MOODLE_GRADE_MAX

FOLDER = "moodle"
WORKSHEET_PT = "planilha_notas.csv"
WORKSHEET_EN = "grading_worksheet_en.csv"
FEEDBACK_ZIP = "devolutivas_feedback.zip"
REPORT = "relatorio_moodle.csv"

# Header rows, in the order of Moodle's own download (gradingtable.php), with the columns whose
# value we know. Strings: mod/assign/lang/<lang>/assign.php (recordid, lastmodifiedgrade, maxgrade,
# hiddenuser), lang/<lang>/moodle.php (grade, fullname), assignfeedback_comments (pluginname).
COLUMNS = {
    "pt_br": {"id": "Identificador", "name": "Nome completo", "grade": "Nota", "max": "Nota máxima",
              "modified": "Última modificação (nota)", "comments": "Comentários de feedback"},
    "en": {"id": "Identifier", "name": "Full name", "grade": "Grade", "max": "Maximum grade",
           "modified": "Last modified (grade)", "comments": "Feedback comments"},
}
HIDDEN_USER = {"pt_br": "Participante", "en": "Participant "}
ORDER = ("id", "name", "grade", "max", "modified", "comments")
# the folder Moodle's "download all submissions" gives each participant, and its importer matches
FOLDER_SUFFIX = "assignsubmission_file_"


@dataclass
class Row:
    student: str
    name: str
    grade: float | None  # on Moodle's scale (0..MOODLE_GRADE_MAX); None: no grade to import
    comment: str  # HTML
    feedback_files: list[Path] = field(default_factory=list)
    status: str = ""


@dataclass
class Export:
    folder: Path
    rows: list[Row]
    left_out: list[tuple[str, str]]  # (student, why it is not in the worksheet/zip)

    @property
    def worksheets(self) -> list[Path]:
        return [self.folder / WORKSHEET_PT, self.folder / WORKSHEET_EN]

    @property
    def feedback_zip(self) -> Path:
        return self.folder / FEEDBACK_ZIP


def identifier(student: str, language: str = "pt_br") -> str:
    return HIDDEN_USER[language] + student


def moodle_number(value: float) -> str:
    """A grade as the importer reads it in any language (unformat_float accepts '.' everywhere)."""
    return f"{round(value, 2):.2f}".rstrip("0").rstrip(".")


def brazilian(value: float) -> str:
    return moodle_number(value).replace(".", ",")


def folder_name(name: str, student: str) -> str:
    """`<Nome>_<id>_assignsubmission_file_`; the name must not contain `_` or `/` (it is split at `_`)."""
    clean = re.sub(r"[_/\\]+", " ", name).strip() or "Participante"
    return f"{clean}_{student}_{FOLDER_SUFFIX}"


def not_collected(skipped: list[tuple[str, str]]) -> dict[str, tuple[str, list[str]]]:
    """Participants whose files were all set aside at collection: id -> (name, [files])."""
    out: dict[str, tuple[str, list[str]]] = {}
    for path, _ in skipped:
        info = lms.match(path)
        if info:
            name, files = out.get(info["student_id"], (info.get("name") or "", []))
            out[info["student_id"]] = (name, files + [info["file_id"]])
    return out


def _comment(totals: dict[str, tuple[float, float]], notes, got: float, out_of: float, grade: float) -> str:
    items = "".join(f"<li>{html.escape(nb)}: {brazilian(s)} / {brazilian(m)}</li>" for nb, (s, m) in totals.items())
    text = (f"<p>Nota: {brazilian(got)} / {brazilian(out_of)} pontos "
            f"({brazilian(grade)} / {brazilian(MOODLE_GRADE_MAX)} no Moodle).</p><p>Por aula:</p><ul>{items}</ul>")
    said = [n for n in notes if n.level != normalize.Level.INFO]
    if said:
        items = "".join(f"<li>{html.escape((n.file + ': ') if n.file else '')}{html.escape(n.message)}</li>"
                        for n in said)
        text += f"<p>Ocorrências:</p><ul>{items}</ul>"
    return text + "<p>A devolutiva completa está no arquivo HTML de cada aula, anexado a esta tarefa.</p>"


def build_rows(course, outcome, names: dict[str, str]) -> tuple[list[Row], list[tuple[str, str]]]:
    from .grading import notebook_totals

    rows: list[Row] = []
    left_out: list[tuple[str, str]] = []
    graded = set(outcome.scores)
    for student in sorted(set(names) & graded, key=lambda s: (len(s), s)):
        totals = notebook_totals(outcome, student)
        got = sum(s for s, _ in totals.values())
        out_of = sum(m for _, m in totals.values())
        grade = round(got / out_of * MOODLE_GRADE_MAX, 2) if out_of else 0.0
        files = [p for nb in course.notebook_names()
                 if (p := course.feedback_dir(student) / f"{nb}.html").is_file()]
        row = Row(student, names[student], grade, _comment(totals, outcome.notes.get(student, []), got, out_of, grade),
                  files, "nota e comentário")
        if not files:
            row.status = "nota e comentário; sem devolutiva HTML (não entra no zip de feedback)"
            left_out.append((student, "sem devolutiva HTML: não entra no zip de feedback"))
        rows.append(row)
    for student, (name, files) in sorted(not_collected(outcome.skipped_files).items()):
        if student in graded:
            continue
        listed = ", ".join(html.escape(f) for f in files)
        rows.append(Row(student, name, None,
                        f"<p>Nenhum notebook (.ipynb) da sua entrega pôde ser coletado (arquivos: {listed}): "
                        "ela não foi corrigida automaticamente; fale com o professor.</p>", [],
                        "sem nota (nenhum notebook coletado): só o comentário; o professor decide a nota"))
        left_out.append((student, f"nenhum notebook coletado ({', '.join(files)}): vai sem nota na planilha"))
    for student in sorted(set(names) - graded, key=lambda s: (len(s), s)):
        left_out.append((student, "veio no zip mas não foi corrigido nesta execução (--alunos): fora da planilha"))
    for student in sorted(graded - set(names)):
        left_out.append((student, "aluno sem id de participante do Moodle (não veio do zip): fora da planilha"))
    return rows, left_out


def write_worksheet(path: Path, rows: list[Row], language: str, modified: str) -> None:
    cols = COLUMNS[language]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([cols[c] for c in ORDER])
        for row in rows:
            writer.writerow([identifier(row.student, language), row.name,
                             "" if row.grade is None else moodle_number(row.grade),
                             moodle_number(MOODLE_GRADE_MAX), modified, row.comment])


def write_feedback_zip(path: Path, rows: list[Row]) -> None:
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for row in rows:
            for file in row.feedback_files:
                zf.write(file, f"{folder_name(row.name, row.student)}/{file.name}")
    tmp.replace(path)


def export(course, outcome, names: dict[str, str], now: float | None = None) -> Export:
    folder = course.root / FOLDER
    folder.mkdir(exist_ok=True)
    rows, left_out = build_rows(course, outcome, names)
    # ISO 8601 with its offset: PHP's strtotime() reads it in any language (Moodle skips a row whose
    # grade changed in Moodle after this time, unless the upload form's override box is ticked)
    modified = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now if now is not None else time.time()))
    write_worksheet(folder / WORKSHEET_PT, rows, "pt_br", modified)
    write_worksheet(folder / WORKSHEET_EN, rows, "en", modified)
    write_feedback_zip(folder / FEEDBACK_ZIP, rows)
    with open(folder / REPORT, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["participante", "nome", "nota_moodle", "arquivos_de_devolutiva", "situacao"])
        for row in rows:
            writer.writerow([row.student, row.name, "" if row.grade is None else brazilian(row.grade),
                             len(row.feedback_files), row.status])
        listed = {r.student for r in rows}
        for student, why in left_out:
            if student not in listed:
                writer.writerow([student, "", "", 0, why])
    return Export(folder, rows, left_out)
