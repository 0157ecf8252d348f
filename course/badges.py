"""The "Abrir no Colab" badges: every notebook's header and the README table follow settings.REPO_SLUG.

The README table also gives an nbgitpuller link per lesson, for the hub at settings.JUPYTERHUB_URL."""
from __future__ import annotations

import re
from pathlib import Path

from . import notebooks as nbt
from .settings import ASSIGNMENT, NOTEBOOKS, ROOT, colab_url, nbgitpuller_url

COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^\s\"')]+?/release/"
                        + re.escape(ASSIGNMENT) + r"/(?P<name>[\w-]+)\.ipynb")
README_START, README_END = "<!-- selos:inicio -->", "<!-- selos:fim -->"
BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"
HUB_BADGE_IMG = "https://img.shields.io/badge/Abrir%20no-JupyterHub-orange?logo=jupyter"
TITLES = {
    "01_pytorch_fundamentals": "Aula 2.1 — Fundamentos de PyTorch",
    "02_calculo_dl": "Aula 2.2 — Cálculo para Deep Learning",
    "03_perceptron_redes": "Aula 2.3 — O Perceptron e Redes Neurais",
    "04_mlp_implementacao": "Aula 2.4 — MLP completo no MNIST",
}


def readme_table() -> str:
    rows = ["| Aula | Duração | Colab | JupyterHub (nbgitpuller) |", "|---|---|---|---|"]
    for name, minutes in NOTEBOOKS.items():
        duration = f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"
        rows.append(f"| {TITLES[name]} (`{name}`) | {duration} | "
                    f"[![Abrir no Colab]({BADGE_IMG})]({colab_url(name)}) | "
                    f"[![Abrir no JupyterHub]({HUB_BADGE_IMG})]({nbgitpuller_url(name)}) |")
    return "\n".join(rows)


def update_badges(root: Path = ROOT, write: bool = True) -> list[Path]:
    """Rewrite stale badges; return the files that changed (or would change, with write=False)."""
    changed: list[Path] = []
    for path in sorted((root / "source" / ASSIGNMENT).glob("*.ipynb")):
        nb = nbt.read(path)
        if not nb.cells:
            continue
        new = COLAB_LINK.sub(lambda m: colab_url(m.group("name")), nb.cells[0].source)
        if new != nb.cells[0].source:
            changed.append(path)
            if write:
                nb.cells[0].source = new
                nbt.write(nb, path)
    readme = root / "README.md"
    if readme.exists():
        text = readme.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
        new = pattern.sub(lambda _: f"{README_START}\n{readme_table()}\n{README_END}", text)
        if new != text:
            changed.append(readme)
            if write:
                readme.write_text(new, encoding="utf-8")
    return changed
