"""Grading on every core and on a Dask cluster gives exactly what the serial path gives (issue 12).

The same class (good and bad submissions of the fixture course) is graded serially (`workers=1`), on an
embedded LocalCluster of 2 worker processes, and on a Dask scheduler and worker started here as separate
processes on 127.0.0.1; a worker killed mid-grading and an interrupted run are survived.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import submissions as S
from conftest import MINI_LIMITS, ROOT, mini_course, place
from course import grading, normalize, notebooks as nbt
from course.grading import autograde, engine, gradebook, worker

# bad submissions of every kind the worker must carry back: set aside, renamed, restored cells, Colab,
# a kernel that dies, a cell that times out, nothing gradable
STUDENTS = ["ok", "vazio", "json_quebrado", "sem_notebook", "nome_errado", "kernel_exit", "loop_infinito",
            "testes_apagados", "colab"]
FEW = ["ok", "kernel_exit", "json_quebrado"]


def _class(parent: Path, students):
    course, release, source = mini_course(parent)
    for student in students:
        place(course, student, S.EXPECTED[student][0](release, source))
    return course


def snapshot(course, outcome, students=None) -> dict:
    """Everything a grading run leaves: scores, notes, gradebook rows, autograded outputs, files set aside."""
    from nbgrader.api import Comment, Grade, Gradebook, SubmittedAssignment

    students = sorted(students or outcome.notes)
    root = str(course.root)
    out = {"scores": {s: outcome.scores.get(s) for s in students},
           "notes": {s: [(n.file, n.level, n.message.replace(root, "<curso>")) for n in outcome.notes.get(s, [])]
                     for s in students}}
    rows = {}
    with Gradebook(course.db_url) as gb:
        for sub in gb.db.query(SubmittedAssignment).all():
            if sub.student.id not in students:
                continue
            rows[sub.student.id] = {
                "timestamp": str(sub.timestamp),
                "notebooks": {nb.name: (nb.late_submission_penalty,
                                        sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                                               for g in nb.grades),
                                        sorted((c.name, c.auto_comment) for c in nb.comments))
                              for nb in sub.notebooks}}
        out["row_counts"] = (gb.db.query(SubmittedAssignment).count(), gb.db.query(Grade).count(),
                             gb.db.query(Comment).count())
    out["gradebook"] = rows
    autograded = {}
    for s in students:
        folder = course.autograded_dir(s)
        files = {}
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.suffix != ".ipynb":
                files[path.name] = path.read_bytes()
                continue
            cells = []
            for cell in nbt.read(path).cells:
                outputs = [(o.get("output_type"), o.get("name"), o.get("ename"), o.get("evalue"),
                            o.get("text"), json.dumps(o.get("data"), sort_keys=True))
                           for o in cell.get("outputs", [])]
                cells.append((cell.cell_type, nbt.grade_id(cell), cell.source, outputs))
            files[path.name] = cells
        autograded[s] = files
    out["autograded"] = autograded
    kept = course.root / grading.ORIGINALS
    out["originals"] = sorted(str(p.relative_to(kept)) for p in kept.rglob("*.ipynb")) if kept.is_dir() else []
    out["feedback"] = sorted(str(p.relative_to(course.root)) for p in (course.root / "feedback").rglob("*.html"))
    return out


def _only(snap: dict, students) -> dict:
    """The parts of a snapshot about some students (row counts excluded: they are per class)."""
    keep = set(students)
    return {k: ({s: v for s, v in val.items() if s in keep} if isinstance(val, dict) else
                [p for p in val if p.split("/")[0] in keep or p.split("/")[1] in keep])
            for k, val in snap.items() if k != "row_counts"}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    course = _class(tmp_path_factory.mktemp("serial"), STUDENTS)
    t0 = time.perf_counter()
    outcome = grading.grade_class(course, progress=False, workers=1, **MINI_LIMITS)
    seconds = time.perf_counter() - t0
    print(f"\nserial: {len(STUDENTS)} alunos em {seconds:.1f} s")
    yield course, outcome, snapshot(course, outcome)
    shutil.rmtree(course.root, ignore_errors=True)


def test_serial_class_is_what_the_catalogue_expects(serial):
    """The reference itself is right (else parallel = serial would prove little)."""
    course, outcome, snap = serial
    for student in STUDENTS:
        assert sum(s for s, _ in grading.notebook_totals(outcome, student).values()) == S.EXPECTED[student][1]
    assert snap["row_counts"][0] == len(STUDENTS)
    assert outcome.reused == []


def test_local_cluster_gives_exactly_the_serial_results(serial, tmp_path, capsys):
    _, _, expected = serial
    course = _class(tmp_path, STUDENTS)
    t0 = time.perf_counter()
    outcome = grading.grade_class(course, progress=False, workers=2, **MINI_LIMITS)
    seconds = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert "Dask: 2 trabalhador(es)" in err, err[-2000:]
    got = snapshot(course, outcome)
    for key in expected:
        assert got[key] == expected[key], key
    with capsys.disabled():
        print(f"\nLocalCluster(2): {len(STUDENTS)} alunos em {seconds:.1f} s")


@pytest.fixture
def dask_processes(tmp_path):
    """A `dask scheduler` and a `dask worker` on 127.0.0.1, as separate processes; yields the address."""
    dask = str(Path(sys.executable).parent / "dask")
    info = tmp_path / "agendador.json"
    logs = open(tmp_path / "dask.log", "w")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(info)], cwd=ROOT, stdout=logs, stderr=logs)]
    try:
        for _ in range(300):
            if info.exists() and info.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                       "--no-dashboard", "--memory-limit", "0"], cwd=ROOT, stdout=logs, stderr=logs))
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        logs.close()


def test_external_scheduler_and_worker_processes_give_the_serial_results(serial, tmp_path, dask_processes, capsys):
    _, _, expected = serial
    course = _class(tmp_path / "curso", FEW)
    outcome = grading.grade_class(course, progress=False, cluster=dask_processes, **MINI_LIMITS)
    assert f"agendador em {dask_processes}" in capsys.readouterr().err
    assert _only(snapshot(course, outcome), FEW) == _only(expected, FEW)


def test_a_worker_killed_mid_grading_is_survived_with_nothing_lost(serial, tmp_path, monkeypatch):
    _, _, expected = serial
    marker = tmp_path / "morreu"
    monkeypatch.setenv(worker.KILL_VAR, "kernel_exit")
    monkeypatch.setenv(worker.KILL_MARKER_VAR, str(marker))
    few = ["ok", "kernel_exit"]
    course = _class(tmp_path / "curso", few)
    outcome = grading.grade_class(course, progress=False, workers=2, **MINI_LIMITS)
    assert marker.exists()  # the worker grading kernel_exit did die once
    got = snapshot(course, outcome)
    assert _only(got, few) == _only(expected, few)
    grades_per_student = expected["row_counts"][1] // expected["row_counts"][0]
    assert got["row_counts"][:2] == (len(few), len(few) * grades_per_student)  # no duplicated rows


def test_recording_a_worker_result_twice_changes_nothing_and_keeps_manual_scores(serial, tmp_path):
    """grading.worker in this process (no Dask), grading.record twice: the serial rows, no duplicates."""
    from nbgrader.api import Gradebook

    from course.grading import record

    _, _, expected = serial
    course = _class(tmp_path / "curso", ["kernel_exit"])
    releases = {"00_mini": nbt.read(course.release_dir / "00_mini.ipynb")}
    originals = course.root / grading.ORIGINALS
    normalize.normalize_all(course.root / "submitted", "modulo2", releases, originals, ["kernel_exit"])
    outcome = grading.Outcome()
    result = worker.grade_student("kernel_exit", worker.submission_files(course, "kernel_exit"),
                                  worker.bundle_of(course), MINI_LIMITS["student_limit"], MINI_LIMITS["notebook_limit"])
    for _ in range(2):
        record.record(course, result, originals)
    outcome.scores["kernel_exit"] = gradebook.scores(course, "kernel_exit")
    outcome.notes["kernel_exit"] = record.notes_of(course, result, originals)
    got = snapshot(course, outcome, ["kernel_exit"])
    for key in ("scores", "gradebook", "autograded"):
        assert got[key] == _only(expected, ["kernel_exit"])[key], key
    per_student = expected["row_counts"][1] // expected["row_counts"][0]
    assert got["row_counts"][:2] == (1, per_student)
    with Gradebook(course.db_url) as gb:  # the instructor scores a cell by hand
        grade = gb.find_grade("ex1_dobro_testes", "00_mini", "modulo2", "kernel_exit")
        grade.manual_score = 1.5
        gb.db.commit()
    record.record(course, result, originals)
    with Gradebook(course.db_url) as gb:  # as nbgrader's SaveAutoGrades: kept, and flagged for review
        grade = gb.find_grade("ex1_dobro_testes", "00_mini", "modulo2", "kernel_exit")
        assert (grade.manual_score, grade.needs_manual_grade) == (1.5, True)


def _mtime(course, student):
    return (course.autograded_dir(student) / "00_mini.ipynb").stat().st_mtime_ns


def test_an_interrupted_run_resumes_and_force_grades_again(serial, tmp_path, monkeypatch):
    _, _, expected = serial
    few = ["kernel_exit", "ok"]  # graded in this order
    course = _class(tmp_path / "curso", few)
    real, calls = grading.execution_notes, []

    def interrupted(*args):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C while the second student is being graded
        return real(*args)

    monkeypatch.setattr(autograde, "execution_notes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grading.grade_class(course, progress=False, workers=1, **MINI_LIMITS)
    monkeypatch.setattr(autograde, "execution_notes", real)
    first = _mtime(course, "kernel_exit")

    resumed = grading.grade_class(course, progress=False, workers=1, **MINI_LIMITS)
    assert resumed.reused == ["kernel_exit"]
    assert _mtime(course, "kernel_exit") == first  # not graded again
    assert "[retomada] 1 aluno(s) reaproveitado(s)" in grading.summary_table(course, resumed)
    assert "[retomada] 1 aluno(s)" in (course.root / grading.REPORT_MD).read_text(encoding="utf-8")
    assert _only(snapshot(course, resumed), few) == _only(expected, few)

    again = grading.grade_class(course, progress=False, workers=1, **MINI_LIMITS)
    assert sorted(again.reused) == few
    assert _only(snapshot(course, again), few) == _only(expected, few)

    # an autograded folder that was removed since is graded again (the feedback needs it)
    shutil.rmtree(course.autograded_dir("kernel_exit"))
    rebuilt = grading.grade_class(course, progress=False, workers=1, **MINI_LIMITS)
    assert rebuilt.reused == ["ok"]
    assert _only(snapshot(course, rebuilt), few) == _only(expected, few)
    first = _mtime(course, "kernel_exit")

    # a student who sends a new file is graded again; the others are not
    release = nbt.read(course.release_dir / "00_mini.ipynb")
    place(course, "ok", S.untouched(release, None))
    changed = grading.grade_class(course, progress=False, workers=1, **MINI_LIMITS)
    assert changed.reused == ["kernel_exit"]
    assert sum(s for s, _ in grading.notebook_totals(changed, "ok").values()) == 0

    forced = grading.grade_class(course, progress=False, workers=1, force=True, **MINI_LIMITS)
    assert forced.reused == []
    assert _mtime(course, "kernel_exit") != first
    assert forced.scores["kernel_exit"] == expected["scores"]["kernel_exit"]
    ledger = json.loads((course.root / engine.LEDGER).read_text(encoding="utf-8"))
    assert sorted(ledger["alunos"]) == few


def test_the_number_of_workers_follows_cores_and_memory(monkeypatch):
    monkeypatch.setattr(engine, "_cores", lambda: 16)
    monkeypatch.setattr(engine, "_memory_mb", lambda: 16 * 1024)
    monkeypatch.setenv("CURSO_SANDBOX_MEMORIA_MB", "3584")  # + 512 MB each: 4 fit in 16 GB
    assert engine.default_workers() == 4
    monkeypatch.setenv("CURSO_SANDBOX_MEMORIA_MB", "512")  # 16 fit
    assert engine.default_workers() == 16
    monkeypatch.setenv("CURSO_SANDBOX_MEMORIA_MB", "256")  # 21 fit: the cores are the limit, one per core and one more
    assert engine.default_workers() == 17
    monkeypatch.setenv(engine.WORKERS_VAR, "3")
    assert engine.chosen_workers(None) == 3 and engine.chosen_workers(1) == 1
    monkeypatch.setenv(engine.WORKERS_VAR, "muitos")
    with pytest.raises(ValueError, match="CURSO_WORKERS"):
        engine.chosen_workers(None)
