"""Course-wide settings: the one place for names, paths and the repository slug."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ASSIGNMENT = "modulo2"

# GitHub "owner/name" of the public repository: Colab badges in the notebooks and the README
# point at release/ in this repository. Change it here, then run `make badges`.
REPO_SLUG = "curso-ia-br/modulo2-redes-neurais-pytorch"
REPO_BRANCH = "main"

# Address of the course's JupyterHub: the README's nbgitpuller links open each lesson there (the hub
# needs `nbgitpuller` installed). Change it here, then run `make badges`.
JUPYTERHUB_URL = "https://jupyterhub.exemplo.edu.br"

# "Nota máxima" of the Moodle assignment: the grading worksheet scales each student's total to it.
MOODLE_GRADE_MAX = 10.0

# The four lessons, in order, with their durations (minutes).
NOTEBOOKS: dict[str, int] = {
    "01_pytorch_fundamentals": 45,
    "02_calculo_dl": 40,
    "03_perceptron_redes": 60,
    "04_mlp_implementacao": 75,
}

# Grading time limits (seconds): a student's whole submission, and one notebook when it is graded again
# alone after the student's run passed STUDENT_TIME_LIMIT (`make corrigir --limite-aluno/--limite-notebook`).
STUDENT_TIME_LIMIT = 2400
NOTEBOOK_TIME_LIMIT = 1200

# Demo students created by `make demo`.
DEMO_SOLUTION_STUDENT = "solucao"
DEMO_EMPTY_STUDENT = "vazio"


def data_dir() -> Path:
    """Dataset folder shared with the notebooks (`COURSE_DATA_DIR`, default `data`)."""
    return Path(os.environ.get("COURSE_DATA_DIR", "data")).resolve()


def colab_url(notebook: str) -> str:
    return (f"https://colab.research.google.com/github/{REPO_SLUG}/blob/{REPO_BRANCH}/"
            f"release/{ASSIGNMENT}/{notebook}.ipynb")


def nbgitpuller_url(notebook: str) -> str:
    """nbgitpuller link: the hub clones (or updates) the repository and opens the lesson in JupyterLab."""
    from urllib.parse import quote

    repo = f"https://github.com/{REPO_SLUG}"
    path = f"lab/tree/{REPO_SLUG.split('/')[-1]}/release/{ASSIGNMENT}/{notebook}.ipynb"
    return (f"{JUPYTERHUB_URL.rstrip('/')}/hub/user-redirect/git-pull?repo={quote(repo, safe='')}"
            f"&branch={quote(REPO_BRANCH, safe='')}&urlpath={quote(path, safe='/')}")
