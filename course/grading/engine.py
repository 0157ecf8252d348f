"""Grade a class on every core, or on a Dask cluster (issue 12): the fan-out, retries and resume.

- `workers=1`: the serial path of `course.grading` (one student after the other, in this course).
- otherwise an embedded `distributed.LocalCluster` of worker processes (the number chosen from the
  cores and the memory each sandbox may take), or an existing Dask scheduler (`cluster=` /
  `CURSO_DASK_CLUSTER`). Each student is a self-contained task (`course.worker.grade_student`,
  `pure=False`, `retries=2`; a worker that dies has its task run again elsewhere by the scheduler);
  the coordinator records the results as they complete (`course.record`, the only gradebook writer).
- resume: `correcao_registro.json` keeps, per student, the SHA-256 of their normalized files and the
  course version; a student whose files and version did not change (and who is in the gradebook) is
  not graded again unless `force`.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .. import normalize
from ..settings import NOTEBOOK_TIME_LIMIT, STUDENT_TIME_LIMIT
from ..workspace import Course
from . import autograde, gradebook, worker

LEDGER = "correcao_registro.json"
WORKERS_VAR = "CURSO_WORKERS"
CLUSTER_VAR = "CURSO_DASK_CLUSTER"
WORKER_OVERHEAD_MB = 512  # nbgrader and the worker process itself, besides the kernel's sandbox


class ClusterUnavailable(RuntimeError):
    pass


# --- how many workers -------------------------------------------------------------------------------

def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _memory_mb() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return 0


def sandbox_memory_mb(course: Course | None = None) -> int:
    """The memory one kernel may take: the course's `SandboxProvisioner.memory_mb` (or override)."""
    from ..sandbox import Limits

    value = Limits.memory_mb
    if course is not None and (course.root / "nbgrader_config.py").exists():
        try:
            from traitlets.config.loader import PyFileConfigLoader

            cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
            value = int(cfg.SandboxProvisioner.get("memory_mb", value))
        except Exception:  # a config that does not load here is nbgrader's business, later
            pass
    try:
        return Limits(memory_mb=value).with_env_overrides().memory_mb
    except ValueError:
        return value


def default_workers(course: Course | None = None) -> int:
    """Worker processes for this machine: one per core and one more, as many as the memory holds sandboxes.

    A student's grading leaves its core idle about an eighth of the time (kernels starting, messages
    going back and forth): with one worker per core, 2 cores were busy 1.74 on average; with one more,
    1.96 (bench/grading_throughput.py, issue 12)."""
    cores, memory = _cores(), _memory_mb()
    by_memory = memory // (sandbox_memory_mb(course) + WORKER_OVERHEAD_MB) if memory else cores + 1
    return max(1, min(cores + 1, by_memory))


def chosen_workers(workers: int | None, course: Course | None = None) -> int:
    if workers is None and os.environ.get(WORKERS_VAR, "").strip():
        raw = os.environ[WORKERS_VAR].strip()
        try:
            workers = int(raw)
        except ValueError:
            raise ValueError(f"{WORKERS_VAR}={raw!r}: deve ser um número inteiro de processos") from None
    if workers is None:
        return default_workers(course)
    if workers < 1:
        raise ValueError(f"--workers {workers}: deve ser pelo menos 1")
    return workers


# --- resume ------------------------------------------------------------------------------------------

class Ledger:
    """correcao_registro.json: per student, the hash of what was graded and the course version."""

    def __init__(self, course: Course):
        self.path = course.root / LEDGER
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
            assert isinstance(self.data.get("alunos"), dict)
        except (OSError, ValueError, AssertionError, AttributeError):
            self.data = {"alunos": {}}

    def matches(self, student: str, files_hash: str, version: str, autograded: bool) -> list[normalize.Note] | None:
        """The grading notes of an earlier run of the same files and course version (None: grade again).

        `autograded`: whether the student's autograded folder is there now (it must be, if it was)."""
        entry = self.data["alunos"].get(student)
        if not entry or entry.get("arquivos") != files_hash or entry.get("versao") != version:
            return None
        if entry.get("corrigido", False) and not autograded:
            return None
        try:
            return [normalize.Note(**n) for n in entry.get("ocorrencias", [])]
        except TypeError:
            return None

    def put(self, student: str, files_hash: str, version: str, notes: list[normalize.Note],
            autograded: bool = True) -> None:
        self.data["alunos"][student] = {"arquivos": files_hash, "versao": version, "corrigido": autograded,
                                        "ocorrencias": [asdict(n) for n in notes]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)  # an interrupted run never leaves half a ledger


def course_version(bundle: worker.CourseBundle, student_limit: float, notebook_limit: float) -> str:
    return f"{bundle.version[:32]}-{student_limit:g}-{notebook_limit:g}"


# --- the fan-out ---------------------------------------------------------------------------------

def _identity(value):
    return value


def _dashboard_line(client, local: bool) -> str:
    from importlib.util import find_spec

    count = len(client.scheduler_info().get("workers", {}))
    where = f"Dask: {count} trabalhador(es), agendador em {client.scheduler.address}"
    if not local:  # the scheduler runs elsewhere: its dashboard exists if bokeh is installed there
        return f"{where}; painel em {client.dashboard_link} (se o agendador tiver o pacote bokeh)"
    if find_spec("bokeh") is None:
        return f"{where}; painel indisponível (instale o pacote bokeh para tê-lo)"
    return f"{where}; painel em {client.dashboard_link}"


def _client(course: Course, address: str | None, n: int):
    """(client, cluster or None): an external scheduler, or an embedded LocalCluster of n processes."""
    from distributed import Client, LocalCluster

    if address:
        try:
            client = Client(address, timeout="30s")
        except OSError as exc:
            raise ClusterUnavailable(f"não foi possível conectar ao agendador do Dask em {address}: {exc}") from None
        try:
            client.wait_for_workers(1, timeout=120)
        except TimeoutError:
            client.close()
            raise ClusterUnavailable(f"o agendador do Dask em {address} não tem nenhum trabalhador "
                                     "(inicie `dask worker` nas máquinas)") from None
        return client, None
    threads = str(max(1, _cores() // n))
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=0,
                           dashboard_address=":0", silence_logs=logging.ERROR,
                           env={"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})
    return Client(cluster), cluster


def grade_students(course: Course, students: list[str], workers: int | None = None, cluster: str | None = None,
                   force: bool = False, student_limit: float = STUDENT_TIME_LIMIT,
                   notebook_limit: float = NOTEBOOK_TIME_LIMIT,
                   originals: Path | None = None, progress: bool = True, outcome=None):
    """Grade these (already normalized) students into `outcome` (a grading.Outcome); return it."""
    from tqdm.auto import tqdm

    from . import Outcome, record

    outcome = outcome if outcome is not None else Outcome()
    originals = originals or course.root / autograde.ORIGINALS
    for student in students:
        outcome.notes.setdefault(student, [])
    present = [s for s in students if course.submission_dir(s).is_dir()]
    for student in students:
        if student not in present:  # nothing sent at all: a 0 on record, nothing to grade
            gradebook.record_zero_submission(course, student)
            outcome.seconds[student] = 0.0
            outcome.scores[student] = gradebook.scores(course, student)

    bundle = worker.bundle_of(course)
    version = course_version(bundle, student_limit, notebook_limit)
    ledger = Ledger(course)
    known = gradebook.students_with_submission(course) if present and not force else set()
    todo, files = [], {}
    for student in present:
        files[student] = worker.submission_files(course, student)
        earlier = None if force or student not in known else ledger.matches(
            student, worker.files_hash(files[student]), version, course.autograded_dir(student).is_dir())
        if earlier is None:
            todo.append(student)
        else:  # graded before, same files and course version: reused
            outcome.reused.append(student)
            outcome.notes[student] += earlier
            outcome.seconds[student] = 0.0
            outcome.scores[student] = gradebook.scores(course, student)
    if outcome.reused:
        print(f"Retomada: {len(outcome.reused)} aluno(s) já corrigido(s) com as mesmas entregas e a mesma "
              f"versão do curso foram reaproveitados (use --forcar para corrigir de novo)", file=sys.stderr)

    def done(student: str, notes: list[normalize.Note], seconds: float) -> None:
        outcome.notes[student] += notes
        outcome.seconds[student] = seconds
        outcome.scores[student] = gradebook.scores(course, student)
        ledger.put(student, worker.files_hash(worker.submission_files(course, student)), version, notes,
                   course.autograded_dir(student).is_dir())

    address = cluster or os.environ.get(CLUSTER_VAR, "").strip() or None
    n = 1 if address else min(chosen_workers(workers, course), max(1, len(todo)))
    bar = tqdm(total=len(todo) + len(outcome.reused), initial=len(outcome.reused), desc="Corrigindo",
               unit="aluno", disable=not progress, file=sys.stderr)
    try:
        if not todo:
            return outcome
        if not address and n == 1:  # the serial path, in this course
            for student in todo:
                t0 = time.perf_counter()
                notes = autograde.autograde_student(course, student, student_limit, notebook_limit, originals)
                notes += autograde.execution_notes(course, student)
                done(student, notes, time.perf_counter() - t0)
                bar.update()
            return outcome
        from distributed import as_completed

        client, local = _client(course, address, n)
        try:
            print(_dashboard_line(client, local is not None), file=sys.stderr)
            # sent once (recomputed if lost), with the release generated here once for every worker
            shared = client.submit(_identity, worker.with_template(bundle), pure=False)
            futures = {client.submit(worker.grade_student, student, files[student], shared, student_limit,
                                     notebook_limit, pure=False, retries=2): student for student in todo}
            for future in as_completed(futures):
                student = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker failed for good: the batch goes on
                    outcome.notes[student].append(normalize.Note(
                        student, "", normalize.Level.ERROR, f"não foi possível corrigir no Dask ({type(exc).__name__}: "
                                             f"{str(exc)[:300]}); rode a correção de novo para este aluno"))
                    outcome.scores[student] = gradebook.scores(course, student)
                else:
                    done(student, record.record(course, result, originals), result.seconds)
                bar.update()
        finally:
            client.close()
            if local is not None:
                local.close()
    finally:
        bar.close()
    return outcome
