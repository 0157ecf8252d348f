"""The lesson-level authoring rules of issue 13, checked on a source notebook (called by `course.lint`).

- **Time**: the core path (outside `(opcional)` sections) fits the lesson's duration on the module page,
  by the model of `course.student_time`.
- **Active learning**: every numbered section of the core path (`## 1. …`) holds a prompt — a markdown cell
  with `**Pense!**` or `**Preveja antes de rodar:**` and its answer in a `<details><summary>…</summary>` block —
  and the lesson ends with an ungraded `## Autoavaliação` of 5–8 questions, each with its `<details>` answer.
- **Colab entry**: the first cells tell the student to save a copy in Drive.
- **One vocabulary** (docs/GLOSSARIO.md): prose never uses the forms its "Não use" column lists, and writes
  decimals with a comma. Code, formulas, links and *italics* (the English name beside the course's term) are not
  prose for this rule.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from . import notebooks as nbt, student_time
from .settings import NOTEBOOKS, ROOT

GLOSSARY = ROOT / "docs" / "GLOSSARIO.md"
PROMPT = re.compile(r"\*\*(?:Pense!|Preveja antes de rodar:)\*\*")
DETAILS = re.compile(r"<details>\s*<summary>.*?</summary>.*?</details>", re.S)
NUMBERED_SECTION = re.compile(r"^\d+\.\s")
SELF_ASSESSMENT = re.compile(r"^Autoavaliação\b")
SELF_ASSESSMENT_QUESTIONS = (5, 8)
SAVE_COPY = "Salvar uma cópia no Drive"
ENTRY_CELLS = 4  # the Colab instructions must be among the first cells

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$", re.M)
# what is not prose for the vocabulary rule
_NOT_PROSE = [
    re.compile(r"```.*?```", re.S),                    # code blocks
    re.compile(r"`[^`\n]*`"),                          # code spans
    re.compile(r"\$\$.*?\$\$", re.S),                  # display math
    re.compile(r"\$[^$\n]+\$"),                        # inline math
    re.compile(r"\]\([^)]*\)"),                        # link and image targets
    re.compile(r"https?://\S+"),                       # bare addresses
    re.compile(r"<[^>]+>"),                            # HTML tags (their text stays)
]
_BOLD = re.compile(r"\*\*|__")
_ITALIC = re.compile(r"\*[^*\n]+\*|(?<![\w])_[^_\n]+_(?![\w])")
_DECIMAL_POINT = re.compile(r"(?<![\w.,])(?:0\.\d+|\d+\.\d+\s?%)")
_LETTER = r"A-Za-zÀ-ÿ0-9_"


@lru_cache(maxsize=1)
def forbidden_terms(path: Path = GLOSSARY) -> dict[str, str]:
    """{form not to use: the course's term}, from the glossary's table."""
    terms: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) != 3 or cols[0] in ("Conceito", "") or set(cols[0]) <= set("-"):
            continue
        term = re.sub(r"\s*\(.*\)$", "", cols[1]).strip("*")
        for form in cols[2].split(";"):
            form = form.strip()
            if form and form != "—":
                terms[form] = term
    return terms


def prose(markdown: str) -> str:
    """The text the vocabulary rule reads: markdown without code, math, links, tags and italics."""
    for pattern in _NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return _ITALIC.sub(" ", _BOLD.sub("", markdown))


def vocabulary_problems(nb) -> list[str]:
    problems = []
    patterns = {form: re.compile(rf"(?<![{_LETTER}]){re.escape(form)}(?![{_LETTER}])", re.I)
                for form in forbidden_terms()}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = prose(cell.source)
        for form, pattern in patterns.items():
            if pattern.search(text):
                problems.append(f"vocabulário: célula {cell.get('id')} usa “{form}”; o termo do curso é "
                                f"“{forbidden_terms()[form]}” (docs/GLOSSARIO.md)")
        for number in _DECIMAL_POINT.findall(text):
            problems.append(f"vocabulário: célula {cell.get('id')} escreve “{number}”: no texto, decimal com vírgula")
    return problems


def _sections(nb):
    """(level-2 heading, optional?, [markdown text], had exercise?) in order, for the headings of the notebook.

    Text before a cell's first heading belongs to the section in effect; an optional subsection's text is
    kept apart (it is not on the core path)."""
    sections = []
    current = None
    optional_level = None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if current is not None and nbt.is_solution(cell):
                current["exercise"] = True
            continue
        pieces = re.split(r"(?m)^(?=#{1,6}\s)", cell.source)
        for piece in pieces:
            heading = _HEADING.match(piece)
            if heading:
                level, title = len(heading.group(1)), heading.group(2)
                if optional_level is not None and level <= optional_level:
                    optional_level = None
                if optional_level is None and student_time.OPTIONAL.search(title):
                    optional_level = level
                if level <= 2:
                    current = {"title": title, "optional": optional_level is not None, "core_text": [],
                               "text": [], "exercise": False, "cell": cell.get("id")}
                    sections.append(current)
            if current is None:
                continue
            current["text"].append(piece)
            if optional_level is None:
                current["core_text"].append(piece)
    return sections


def active_learning_problems(nb) -> list[str]:
    problems = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and len(PROMPT.findall(cell.source)) > len(DETAILS.findall(cell.source)):
            problems.append(f"célula {cell.get('id')}: todo “Pense!”/“Preveja antes de rodar:” traz a resposta num "
                            "bloco <details><summary>…</summary>…</details> na mesma célula")
    sections = _sections(nb)
    for s in sections:
        if NUMBERED_SECTION.match(s["title"]) and not s["optional"]:
            if not any(PROMPT.search(t) and DETAILS.search(t) for t in s["core_text"]):
                problems.append(f"seção “{s['title']}”: falta um “**Pense!**” ou “**Preveja antes de rodar:**” "
                                "com a resposta em <details> (no caminho essencial)")
    assessments = [s for s in sections if SELF_ASSESSMENT.match(s["title"])]
    if len(assessments) != 1:
        problems.append("a aula termina com uma seção “## Autoavaliação” (uma só; sem nota)")
    else:
        s = assessments[0]
        count = sum(len(DETAILS.findall(t)) for t in s["text"])
        low, high = SELF_ASSESSMENT_QUESTIONS
        if not low <= count <= high:
            problems.append(f"Autoavaliação com {count} respostas em <details>: são de {low} a {high} perguntas, "
                            "cada uma com a sua resposta")
        if s["optional"]:
            problems.append("a Autoavaliação faz parte do caminho essencial (fora de seção opcional)")
        if any(t["exercise"] for t in sections[sections.index(s):]):
            problems.append("a Autoavaliação vem depois de todos os exercícios")
    return problems


def entry_problems(nb) -> list[str]:
    first = " ".join(c.source for c in nb.cells[:ENTRY_CELLS] if c.cell_type == "markdown")
    if SAVE_COPY not in first:
        return [f"as primeiras células dizem como guardar o trabalho no Colab (“Arquivo > {SAVE_COPY}”)"]
    return []


def time_problems(nb, name: str) -> list[str]:
    if name not in NOTEBOOKS:
        return []
    est = student_time.estimate(nb)
    if est.core > NOTEBOOKS[name]:
        return [f"caminho essencial estimado em {est.core:.0f} min, acima dos {NOTEBOOKS[name]} min da aula "
                "(bench/tempos_notebooks.py --so-estimativa; mova o que passa para seções “(opcional)”)"]
    return []


def lesson_problems(nb, name: str) -> list[str]:
    """Every problem of the rules above (empty list: the lesson follows them)."""
    return (time_problems(nb, name) + entry_problems(nb) + active_learning_problems(nb)
            + vocabulary_problems(nb))
