"""course.workspace: nbgrader's gradebook and commands work from a bare interpreter, quietly."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings

from course.grading import gradebook
from course.workspace import Course

SA_WARNING = "sqlalchemy.exc.SAWarning"


def test_grading_works_when_the_venv_is_not_on_path(tmp_path):
    """`.venv/bin/python -m course corrigir` without activating the venv: nbgrader runs `alembic`
    from PATH when it creates the gradebook."""
    code = ("import sys\nfrom pathlib import Path\nfrom course.grading import gradebook\n"
            "from course.workspace import Course\n"
            "gradebook.register_names(Course(Path(sys.argv[1])), {'101': 'Ana Souza'})\nprint('ok')\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "COURSE_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    assert (tmp_path / "gradebook.db").exists()


def test_gradebook_updates_do_not_print_sqlalchemy_warnings(tmp_path):
    from nbgrader.api import Gradebook

    course = Course(tmp_path)
    (course.source_dir).mkdir(parents=True)
    (course.source_dir / "01_a.ipynb").write_text("{}")
    with Gradebook(course.db_url) as gb:
        gb.add_assignment("modulo2")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        gradebook.record_zero_submission(course, "ana")
        gradebook.register_names(course, {"ana": "Ana Souza"})
    assert not [w for w in seen if f"{w.category.__module__}.{w.category.__name__}" == SA_WARNING], \
        [str(w.message)[:200] for w in seen]
    assert gradebook.scores(course, "ana") == {}  # recorded, with no notebook graded


def test_nbgrader_commands_get_this_interpreter_first_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    seen = {}

    def fake_run(args, **kw):
        seen.update(kw["env"])
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    Course(tmp_path).nbgrader("--version")
    assert seen["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)


def test_nbgrader_apps_loading_the_course_config_print_no_sqlalchemy_warnings(tmp_path):
    """`nbgrader autograde` (by hand or from `course corrigir`) loads nbgrader_config.py before it
    touches the gradebook: the config silences nbgrader's SQLAlchemy noise in that process."""
    from course.settings import ROOT

    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('default')\n"
        "from traitlets.config.loader import PyFileConfigLoader\n"
        "PyFileConfigLoader('nbgrader_config.py', path=sys.argv[1]).load_config()\n"
        "from nbgrader.api import Gradebook\n"
        "with Gradebook('sqlite:///' + sys.argv[2] + '/gradebook.db') as gb:\n"
        "    gb.add_assignment('modulo2')\n"
        "    gb.update_or_create_student('ana')\n"
        "    gb.update_or_create_submission('modulo2', 'ana')\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT), str(tmp_path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    assert "SAWarning" not in proc.stderr, proc.stderr[-2000:]


def test_course_paths_follow_nbgraders_course_directory(tmp_path):
    """Folders and database as nbgrader's CourseDirectory lays them out, also when the config moves them."""
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()  # noqa\nc.CourseDirectory.submitted_directory = "
                                                 "'entregas'\nc.CourseDirectory.db_url = 'sqlite:////x/notas.db'\n")
    course = Course(tmp_path)
    assert course.submitted_root == tmp_path / "entregas"
    assert course.submission_dir("ana") == tmp_path / "entregas" / "ana" / "modulo2"
    assert course.source_dir == tmp_path / "source" / "modulo2"
    assert course.autograded_dir("ana") == tmp_path / "autograded" / "ana" / "modulo2"
    assert course.db_url == "sqlite:////x/notas.db"
    assert Course(tmp_path / "outro").db_url == f"sqlite:///{tmp_path / 'outro' / 'gradebook.db'}"
