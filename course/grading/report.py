"""Report: the class's scores and every note, on screen (`summary_table`), in `relatorio_correcao.md` and,
one row per student and notebook (plus rows for notes about no lesson), in `relatorio_correcao.csv`."""
from __future__ import annotations

import csv

from .. import normalize
from ..settings import ASSIGNMENT
from ..workspace import Course

REPORT_CSV = "relatorio_correcao.csv"
REPORT_MD = "relatorio_correcao.md"


def notebook_totals(outcome, student: str) -> dict[str, tuple[float, float]]:
    """notebook -> (score, max score); a notebook nbgrader never saw scores 0 of its maximum."""
    totals = {nb: (0.0, m) for nb, m in outcome.max_scores.items()}
    totals.update({nb: (sum(s for s, _ in g.values()), sum(m for _, m in g.values()))
                   for nb, g in outcome.scores.get(student, {}).items()})
    return totals


def summary_table(course: Course, outcome) -> str:
    names = course.notebook_names()
    short = [n.split("_")[0] for n in names]
    lines = [f"{'aluno':22s} " + " ".join(f"{s:>9s}" for s in short) + f" {'total':>11s}"]
    for student in sorted(outcome.scores):
        totals = notebook_totals(outcome, student)
        cells, got, out_of = [], 0.0, 0.0
        for name in names:
            score, max_score = totals.get(name, (0.0, 0.0))
            got, out_of = got + score, out_of + max_score
            cells.append(f"{score:>4g}/{max_score:<4g}")
        lines.append(f"{student:22s} " + " ".join(f"{c:>9s}" for c in cells) + f" {got:>5g}/{out_of:<5g}")
    for student in sorted(outcome.notes):
        for note in outcome.notes[student]:
            if note.level != normalize.Level.INFO:
                lines.append(f"  [{note.level}] {student} {note.file}: {note.message}")
    for path, why in outcome.skipped_files:
        lines.append(f"  [não coletado] {path}: {why}")
    lines += [f"  [erro] {problem}" for problem in outcome.problems]
    if outcome.reused:
        lines.append(f"  [retomada] {len(outcome.reused)} aluno(s) reaproveitado(s) de uma correção anterior "
                     "(mesmas entregas, mesma versão do curso): " + ", ".join(sorted(outcome.reused)))
    for who, what in outcome.lms:
        lines.append(f"  [moodle] {who}: {what}")
    return "\n".join(lines)


def write_report(course: Course, outcome) -> None:
    with open(course.root / REPORT_CSV, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["aluno", "notebook", "nota", "nota_maxima", "ocorrencias"])
        for problem in outcome.problems:
            writer.writerow(["", "", "", "", f"erro: {problem}"])
        lessons = [f"{name}.ipynb" for name in course.notebook_names()]
        for student in sorted(set(outcome.scores) | set(outcome.notes)):
            totals = notebook_totals(outcome, student)
            notes = outcome.notes.get(student, [])
            for name, file in zip(course.notebook_names(), lessons):
                score, max_score = totals.get(name, (0.0, 0.0))
                said = "; ".join(n.message for n in notes if n.file == file)
                writer.writerow([student, name, f"{score:g}", f"{max_score:g}", said])
            # notes about no lesson notebook (a file set aside under another name, the feedback): own rows
            for file in dict.fromkeys(n.file for n in notes if n.file not in lessons):
                said = "; ".join(n.message for n in notes if n.file == file)
                writer.writerow([student, file, "", "", said])
        for path, why in outcome.skipped_files:
            writer.writerow(["", path, "", "", f"não coletado: {why}"])
    (course.root / REPORT_MD).write_text(
        "# Relatório de correção — " + ASSIGNMENT + "\n\n```\n" + summary_table(course, outcome) + "\n```\n",
        encoding="utf-8")
