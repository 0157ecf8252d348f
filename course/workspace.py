"""An nbgrader course directory (the repository itself, or a scratch copy) and its commands."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import notebooks as nbt
from .settings import ASSIGNMENT, ROOT, data_dir

NBGRADER = [sys.executable, "-m", "nbgrader"]


class NbgraderFailed(RuntimeError):
    pass


@dataclass
class Course:
    root: Path

    # --- paths: as nbgrader's CourseDirectory lays them out (its directory_structure and step folders) ---
    def coursedir(self):
        """nbgrader's `CourseDirectory` for this course, configured by its nbgrader_config.py."""
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        config = (PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
                  if (self.root / "nbgrader_config.py").exists() else Config())
        config.CourseDirectory.root = str(self.root)
        return CourseDirectory(config=config)

    @cached_property
    def _layout(self):
        return self.coursedir()

    def _step_dir(self, step: str, student: str = ".") -> Path:
        """`<root>/<step folder>/<student>/<assignment>`, as `CourseDirectory.format_path` builds it."""
        cd = self._layout
        return Path(os.path.normpath(cd.format_path(getattr(cd, f"{step}_directory"), student, ASSIGNMENT)))

    @property
    def source_dir(self) -> Path:
        return self._step_dir("source")

    @property
    def release_dir(self) -> Path:
        return self._step_dir("release")

    @property
    def submitted_root(self) -> Path:
        """The folder of every student's submission (`submitted/`)."""
        return self.root / self._layout.submitted_directory

    def submission_dir(self, student: str) -> Path:
        return self._step_dir("submitted", student)

    def autograded_dir(self, student: str) -> Path:
        return self._step_dir("autograded", student)

    def feedback_dir(self, student: str) -> Path:
        return self._step_dir("feedback", student)

    @property
    def db_url(self) -> str:
        """The gradebook's database, as nbgrader reads it from this course's nbgrader_config.py: SQLite in
        `<root>/gradebook.db` unless `c.CourseDirectory.db_url` names another (e.g. the PostgreSQL database a
        JupyterHub's formgrader shares)."""
        return self.coursedir().db_url

    def notebook_names(self) -> list[str]:
        return sorted(p.stem for p in self.source_dir.glob("*.ipynb"))

    # --- nbgrader ------------------------------------------------------------------------------
    def nbgrader(self, *args: str, timeout: float | None = None, check: bool = True,
                 env: dict | None = None) -> subprocess.CompletedProcess:
        full_env = kernel_environment(dict(os.environ))
        full_env.update(env or {})
        proc = subprocess.run([*NBGRADER, *args], cwd=self.root, env=full_env, text=True,
                              capture_output=True, timeout=timeout, start_new_session=True)
        if check and proc.returncode != 0:
            raise NbgraderFailed(f"nbgrader {' '.join(args)} falhou ({proc.returncode}):\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
        return proc

    def generate_release(self) -> None:
        self.nbgrader("generate_assignment", ASSIGNMENT, "--force")

    def submit(self, student: str, notebooks: dict[str, object]) -> Path:
        """Place notebooks (name -> NotebookNode) as a student's submission."""
        folder = self.submission_dir(student)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, nb in notebooks.items():
            nbt.write(nb, folder / f"{name}.ipynb")
        return folder

    def solution_submission(self) -> dict[str, object]:
        """Each student notebook with every answer cell filled in from the source notebook."""
        out = {}
        for name in self.notebook_names():
            answers = nbt.solution_sources(nbt.read(self.source_dir / f"{name}.ipynb"))
            out[name] = nbt.fill_answers(nbt.read(self.release_dir / f"{name}.ipynb"), answers)
        return out

    def empty_submission(self) -> dict[str, object]:
        return {name: nbt.read(self.release_dir / f"{name}.ipynb") for name in self.notebook_names()}

    def autograde(self, student: str, timeout: float | None = None,
                  extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        return self.nbgrader("autograde", ASSIGNMENT, "--student", student, "--force", *extra,
                             timeout=timeout, check=False)

    def api(self):
        """nbgrader's Python API on this course (runs nbgrader in this process, no start-up cost).

        Kernels inherit this process's environment: see `kernel_environment()`."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        kernel_environment()
        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def kernel_environment(env=None) -> dict:
    """The environment nbgrader and its kernels need (default: this process's own, updated).

    The one place that puts this interpreter's bin folder first on PATH: nbgrader shells out to
    `alembic`, and unsandboxed kernels run `python`, so `.venv/bin/python -m course ...` works
    without activating the venv. Every nbgrader command and gradebook of a `Course` goes through it."""
    env = os.environ if env is None else env
    env.setdefault("COURSE_DATA_DIR", str(data_dir()))
    # nbgrader calls `alembic` (and kernels run `python`) from PATH: use this environment's.
    bindir = str(Path(sys.executable).parent)
    if not env.get("PATH", "").startswith(bindir + os.pathsep):
        env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    return env


def scratch_course(notebooks: list[str] | None = None, parent: Path | None = None,
                   sources: Path | None = None, extra_config: str = "") -> Course:
    """A throw-away course directory with the repository's config and (some of) its sources.

    `sources` replaces source/modulo2 (e.g. a test fixture); `extra_config` is appended to the
    course's nbgrader_config.py (e.g. a shorter cell timeout)."""
    root = Path(tempfile.mkdtemp(prefix="curso-", dir=parent))
    (root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(ROOT / 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(root)!r}\n" + extra_config)
    src = root / "source" / ASSIGNMENT
    src.mkdir(parents=True)
    origin = sources or ROOT / "source" / ASSIGNMENT
    for path in sorted(origin.glob("*.ipynb")):
        if notebooks is None or path.stem in notebooks:
            shutil.copy(path, src / path.name)
    return Course(root)
