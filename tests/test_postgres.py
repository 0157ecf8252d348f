"""A PostgreSQL gradebook (issue 12, item 7): the JupyterHub course whose formgrader and grading share one
database (`c.CourseDirectory.db_url`). Grading, re-running (also on 2 workers, where only the coordinator
writes the database) and `nbgrader export` give what the SQLite gradebook gives.

The test starts its own PostgreSQL server (Debian's `postgresql` package, installed by `.ci/run`) on a
Unix socket in a temporary folder, and stops it at the end.
"""
from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

import submissions as S
from conftest import MINI_CONFIG, MINI_LIMITS, mini_course, place
from course import grading
from test_parallel_grading import snapshot

STUDENTS = ["ok", "vazio", "kernel_exit", "json_quebrado"]
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user of the Debian package."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres_url():
    if not PG_BINS:
        pytest.fail("PostgreSQL não está instalado: `sudo apt-get install -y postgresql` (o .ci/run já instala).",
                    pytrace=False)
    pytest.importorskip("psycopg2", reason="psycopg2-binary vem do requirements.txt (make venv)")
    bindir = PG_BINS[-1]
    base = Path(tempfile.mkdtemp(prefix="curso-pg-"))
    os.chmod(base, 0o755)
    data, sock, logs = base / "dados", base / "sock", base / "log"
    for folder in (data, sock, logs):
        folder.mkdir()
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "curso",
                                 "-E", "UTF8", "--no-locale"]), **run)
    with socket.socket() as s:  # a free TCP port number (the server listens only on its Unix socket)
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    options = f"-k {sock} -p {port} -c listen_addresses=''"
    subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                                 str(logs / "servidor.log"), "start"]), **run)
    try:
        subprocess.run(_as_postgres([str(bindir / "createdb"), "-h", str(sock), "-p", port, "-U", "curso",
                                     "gradebook"]), **run)
        yield f"postgresql+psycopg2://curso@/gradebook?host={sock}&port={port}"
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def _class(parent: Path, extra_config: str = ""):
    course, release, source = mini_course(parent, extra_config=MINI_CONFIG + extra_config)
    for student in STUDENTS:
        place(course, student, S.EXPECTED[student][0](release, source))
    return course


def _grades_csv(course) -> list[dict]:
    with open(course.root / "grades.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row.pop("timestamp", None)
    return sorted(rows, key=lambda r: (r.get("student_id", ""), r.get("assignment", "")))


def test_a_postgresql_gradebook_grades_reruns_and_exports_as_sqlite_does(postgres_url, tmp_path):
    lite = _class(tmp_path / "sqlite")
    expected = snapshot(lite, grading.grade_class(lite, progress=False, workers=1, **MINI_LIMITS))

    pg = _class(tmp_path / "postgres", f"c.CourseDirectory.db_url = {postgres_url!r}\n")
    assert pg.db_url == postgres_url
    first = grading.grade_class(pg, progress=False, workers=1, **MINI_LIMITS)
    assert not (pg.root / "gradebook.db").exists(), "com db_url do PostgreSQL, nenhum gradebook SQLite no curso"
    assert snapshot(pg, first) == expected
    assert _grades_csv(pg) == _grades_csv(lite)

    # again, on 2 workers: each grades in its own private SQLite gradebook, the coordinator writes PostgreSQL
    again = grading.grade_class(pg, progress=False, workers=2, force=True, **MINI_LIMITS)
    assert snapshot(pg, again) == expected  # row counts included: nothing duplicated
    assert _grades_csv(pg) == _grades_csv(lite)
