"""Shared fixtures: scratch courses graded once per test session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from course import grading, notebooks as nbt
from course.settings import ASSIGNMENT, NOTEBOOKS
from course.workspace import kernel_environment, scratch_course

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNIT = Path(__file__).resolve().parent / "unit"
# Short limits for the fixture course: its cells run in milliseconds.
MINI_CONFIG = "c.Execute.timeout = 10\nc.ProtectedExecute.responsive_after_timeout = 5\n"
MINI_LIMITS = dict(student_limit=180, notebook_limit=90)


def _only_unit_tests(config) -> bool:
    """`pytest tests/unit` (make test-rapido) runs no lesson: it needs no dataset."""
    paths = [Path(str(arg).split("::")[0]).resolve() for arg in config.args] or [Path(config.rootpath, "tests")]
    return all(p == UNIT or UNIT in p.parents for p in paths)


def pytest_configure(config):
    data = Path(os.environ.get("COURSE_DATA_DIR", "data"))
    if not (data / "MNIST" / "raw").is_dir() and not _only_unit_tests(config):
        raise pytest.UsageError(
            f"COURSE_DATA_DIR={data} não tem MNIST/raw: aponte COURSE_DATA_DIR para a pasta de dados "
            "(nesta máquina: ../shared/data)")
    os.environ["COURSE_DATA_DIR"] = str(data.resolve())
    kernel_environment()
    # memory bombs in the tests must hit a small limit, not the machine
    os.environ.setdefault("CURSO_SANDBOX_MEMORIA_MB", "2048")
    # grading in the tests is serial unless a test asks for workers (tests/test_parallel_grading.py): the
    # tight MINI_CONFIG timeouts assume one kernel per pytest worker on a 2-core machine
    os.environ.setdefault("CURSO_WORKERS", "1")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # two pytest workers share the cores: one OpenMP thread per kernel, or torch's spinning
        # threads oversubscribe the CPU and a training takes several times longer
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        os.environ.setdefault("MKL_NUM_THREADS", "1")


# `make test` runs two pytest workers (pytest-xdist, one test file per worker at a time): the
# longest files go first, so that both workers finish about together (the variants on one, the
# other files one after another on the other).
FILE_ORDER = ("test_variants", "test_mutants", "test_grading_workflow", "test_parallel_grading", "test_notebooks",
              "test_navegador", "test_sandbox", "test_postgres", "test_moodle", "test_host_setup", "test_distribution",
              "test_repository")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(FILE_ORDER)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


@pytest.fixture(scope="session")
def solved_class(tmp_path_factory):
    """The real course: solutions as `solucao`, untouched student versions as `vazio`, graded."""
    from course.demo import run_demo

    course = scratch_course(parent=tmp_path_factory.mktemp("turma"))
    outcome = run_demo(course, progress=False)
    yield course, outcome
    shutil.rmtree(course.root, ignore_errors=True)


def mini_course(parent: Path, extra_config: str = MINI_CONFIG):
    parent.mkdir(parents=True, exist_ok=True)
    course = scratch_course(parent=parent, sources=FIXTURES, extra_config=extra_config)
    course.generate_release()
    release = nbt.read(course.release_dir / "00_mini.ipynb")
    source = nbt.read(course.source_dir / "00_mini.ipynb")
    return course, release, source


def place(course, student: str, files: dict[str, bytes]) -> None:
    folder = course.submission_dir(student)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def total(outcome, student: str) -> float:
    return sum(score for score, _ in grading.notebook_totals(outcome, student).values())


__all__ = ["ASSIGNMENT", "NOTEBOOKS", "ROOT", "mini_course", "place", "total"]
