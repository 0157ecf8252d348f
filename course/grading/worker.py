"""Grading one student as a self-contained unit of work (issue 12).

Input: the student's normalized submission files (name -> bytes), a `CourseBundle` (the course's
source files as bytes and the nbgrader configuration it adds to this repository's) and the limits.
The grading code and `nbgrader_config.py` are this process's own checkout of the repository
(`course.workspace.scratch_course`). The student is graded in a private scratch course — a copy of a
template prepared once per process (`generate_release`), gradebook included — by the very functions
of the serial path (`autograde.autograde_student`, `autograde.execution_notes`). The result is plain,
picklable data: it needs no shared filesystem and never touches the instructor's gradebook
(the coordinator records it: `record`, `gradebook`).
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..settings import ROOT
from ..workspace import Course, scratch_course
from . import autograde, gradebook

# Test-only fault injection: the worker process grading this student dies (os._exit) right after
# grading it, on the first attempt only (the marker file says the attempt happened).
KILL_VAR = "CURSO_TESTE_MATAR_ALUNO"
KILL_MARKER_VAR = "CURSO_TESTE_MARCA"


def _sha(*chunks: bytes) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(hashlib.sha256(chunk).digest())
    return h.hexdigest()


def files_hash(files: dict[str, bytes]) -> str:
    """SHA-256 of a set of files (names and contents), independent of their order."""
    return _sha(*(name.encode() + b"\0" + data for name, data in sorted(files.items())))


def repo_config_hash() -> str:
    return _sha((ROOT / "nbgrader_config.py").read_bytes())


@dataclass(frozen=True)
class CourseBundle:
    """What a worker needs of the instructor's course besides its own checkout."""
    sources: dict[str, bytes]  # path relative to source/<assignment>/ -> bytes
    extra_config: str = ""  # appended to this repository's nbgrader_config.py
    repo_config: str = ""  # hash of the coordinator's repository nbgrader_config.py
    # a scratch course generated once from the sources by the coordinator (release/ and the gradebook,
    # paths relative to its root), so that no worker runs generate_assignment (`with_template`)
    template: dict[str, bytes] = field(default_factory=dict, compare=False)

    @property
    def version(self) -> str:
        """The course version: source files + nbgrader configuration."""
        return _sha(files_hash(self.sources).encode(), self.extra_config.encode(), self.repo_config.encode())


@dataclass
class StudentResult:
    student: str
    autograded: dict[str, bytes] | None  # autograded/<student>/<assignment>/ (None: autograde never ran)
    scores: dict[str, dict[str, tuple[float, float]]]  # notebook -> grade_id -> (score, max)
    notes: list  # normalize.Note, as the serial path words them
    set_aside: list[str]  # notebooks moved out of the submission (graded 0)
    submitted: list[str]  # notebooks still in the submission after grading (the others scored 0)
    gradebook: dict  # the rows autograde wrote: timestamp, per notebook its grades and comments
    scratch_originals: str  # where the worker kept the set-aside files (the notes name it)
    seconds: float = 0.0
    where: str = ""
    extra: dict = field(default_factory=dict)


def _course_extra_config(course: Course) -> str:
    """What the course's nbgrader_config.py adds to this repository's (a scratch course's tail)."""
    path = course.root / "nbgrader_config.py"
    if not path.exists() or course.root.resolve() == ROOT.resolve():
        return ""
    text = path.read_text(encoding="utf-8")
    if text == (ROOT / "nbgrader_config.py").read_text(encoding="utf-8"):
        return ""
    keep = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("c = get_config()") or stripped.startswith("c.CourseDirectory.root"):
            continue
        if stripped.startswith("load_subconfig(") and "nbgrader_config.py" in stripped:
            continue
        if stripped.startswith("c.CourseDirectory.db_url"):  # a worker's gradebook is its own (SQLite)
            continue
        keep.append(line)
    return "".join(keep)


def bundle_of(course: Course) -> CourseBundle:
    sources = {str(p.relative_to(course.source_dir)): p.read_bytes()
               for p in sorted(course.source_dir.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
               and ".ipynb_checkpoints" not in p.parts}
    return CourseBundle(sources=sources, extra_config=_course_extra_config(course), repo_config=repo_config_hash())


def _files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def with_template(bundle: CourseBundle) -> CourseBundle:
    """The bundle with its template: generate_assignment once here instead of once per worker."""
    course = _generated(bundle)
    try:
        files = {rel: data for rel, data in _files_under(course.root).items() if rel != "nbgrader_config.py"}
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
    return replace(bundle, template=files)


def submission_files(course: Course, student: str) -> dict[str, bytes]:
    return _files_under(course.submission_dir(student))


# --- the worker side ------------------------------------------------------------------------------

_TEMPLATES: dict[str, Course] = {}


@atexit.register
def _remove_templates() -> None:
    for course in _TEMPLATES.values():
        shutil.rmtree(course.root, ignore_errors=True)


def _template(bundle: CourseBundle) -> Course:
    """This process's prepared scratch course for the bundle (generate_release once)."""
    course = _TEMPLATES.get(bundle.version)
    if course is not None and course.root.is_dir():
        return course
    if bundle.template:
        course = scratch_course(notebooks=[], extra_config=bundle.extra_config)
        for rel, data in bundle.template.items():
            (course.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (course.root / rel).write_bytes(data)
    else:
        course = _generated(bundle)
    _TEMPLATES[bundle.version] = course
    return course


def _generated(bundle: CourseBundle) -> Course:
    """A scratch course with the bundle's sources, its release generated (and its gradebook filled)."""
    course = scratch_course(notebooks=[], extra_config=bundle.extra_config)
    for rel, data in bundle.sources.items():
        dest = course.source_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    course.generate_release()
    return course


def _copy_of(template: Course) -> Course:
    root = Path(tempfile.mkdtemp(prefix="curso-aluno-"))
    shutil.copytree(template.root, root, dirs_exist_ok=True)
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text(encoding="utf-8").replace(repr(str(template.root)), repr(str(root))),
                      encoding="utf-8")
    return Course(root)


def grade_student(student: str, files: dict[str, bytes], bundle: CourseBundle, student_limit: float,
                  notebook_limit: float) -> StudentResult:
    """Grade one student in a private scratch course; return everything the coordinator records."""
    from .. import sandbox

    t0 = time.perf_counter()
    sandbox.require()
    if bundle.repo_config and bundle.repo_config != repo_config_hash():
        raise RuntimeError("este trabalhador tem outro nbgrader_config.py que o do coordenador: "
                           "atualize o repositório nas máquinas dos trabalhadores")
    course = _copy_of(_template(bundle))
    try:
        folder = course.submission_dir(student)
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        originals = course.root / autograde.ORIGINALS
        notes = autograde.autograde_student(course, student, student_limit, notebook_limit, originals)
        notes += autograde.execution_notes(course, student)
        set_aside = [n for n in course.notebook_names()
                     if f"{n}.ipynb" in files and not (folder / f"{n}.ipynb").exists()]
        present = [n for n in course.notebook_names() if (folder / f"{n}.ipynb").exists()]
        out = course.autograded_dir(student)
        autograded = _files_under(out) if out.is_dir() else None
        result = StudentResult(student=student, autograded=autograded, scores=gradebook.scores(course, student),
                               notes=notes, set_aside=set_aside, submitted=present,
                               gradebook=gradebook.result_rows(course, student),
                               scratch_originals=str(originals), where=f"{os.uname().nodename}:{os.getpid()}")
        if os.environ.get(KILL_VAR) == student:
            marker = Path(os.environ[KILL_MARKER_VAR])
            if not marker.exists():
                marker.write_text(f"{os.getpid()}\n")
                os._exit(17)  # the worker dies mid-grading (after grading, before returning)
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
    result.seconds = time.perf_counter() - t0
    return result
