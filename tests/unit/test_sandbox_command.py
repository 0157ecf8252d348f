"""course.sandbox: the bubblewrap command line of a kernel's sandbox, and its optional cgroup (no kernel run)."""
from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

import pytest

from course import sandbox
from course.settings import ROOT


@pytest.fixture
def no_cgroup(tmp_path, monkeypatch):
    """A cgroup root with no controllers: the sandbox makes no cgroup (and never touches /sys)."""
    monkeypatch.setattr(sandbox, "CGROUP_ROOT", tmp_path / "cgroup-vazio")


@pytest.fixture
def box(tmp_path, no_cgroup, monkeypatch):
    data = tmp_path / "dados"
    data.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    monkeypatch.setenv("SEGREDO_DO_INSTRUTOR", "x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    work = tmp_path / "entrega"
    work.mkdir()
    (work / "00_mini.ipynb").write_text("{}")
    limits = sandbox.Limits(memory_mb=100, address_space_mb=200, cpu_seconds=30, processes=10, file_size_mb=5,
                            open_files=64)
    b = sandbox.Sandbox(work, limits)
    yield b, data
    b.remove()


def _pairs(cmd, flag):
    """(source, destination) of every `flag SRC DEST` in the command."""
    return [(cmd[i + 1], cmd[i + 2]) for i, a in enumerate(cmd) if a == flag]


def _sandbox_part(cmd):
    return cmd[:cmd.index("--")]


def test_the_kernel_command_comes_last_after_the_limits(box):
    b, _ = box
    cmd = b.command(["python", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert cmd[-5:] == ["python", "-m", "ipykernel_launcher", "-f", "k.json"]
    tail = cmd[cmd.index("--") + 1:]
    assert tail[0] == "prlimit"
    assert {"--as=209715200", "--cpu=30", "--nproc=74", "--fsize=5242880", "--nofile=64", "--core=0"} <= set(tail)


def test_no_network_no_shared_namespaces_and_a_clean_environment(box):
    b, _ = box
    cmd = _sandbox_part(b.command(["k"]))
    assert {"--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
            "--clearenv"} <= set(cmd)
    env = dict(_pairs(cmd, "--setenv"))
    assert "SEGREDO_DO_INSTRUTOR" not in env
    assert env["OMP_NUM_THREADS"] == "1" and env["HOME"] == sandbox.HOME
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert set(env) <= {*sandbox.PASS_ENV, "HOME", "PATH", "TMPDIR", "MPLBACKEND"}


def test_only_the_scratch_copy_and_ipc_folder_are_writable(box):
    b, data = box
    cmd = _sandbox_part(b.command(["k"]))
    assert sorted(_pairs(cmd, "--bind")) == sorted([(str(b.scratch), sandbox.WORKDIR),
                                                    (str(b.ipc_dir), str(b.ipc_dir))])
    assert (b.scratch / "00_mini.ipynb").exists()  # a copy of the submission folder
    assert cmd[cmd.index("--chdir") + 1] == sandbox.WORKDIR


def test_data_and_python_are_read_only_and_the_course_is_not_there(box):
    b, data = box
    cmd = _sandbox_part(b.command(["k"]))
    ro = dict(_pairs(cmd, "--ro-bind"))
    assert ro[str(data.resolve())] == str(data.resolve())
    assert dict(_pairs(cmd, "--setenv"))["COURSE_DATA_DIR"] == str(data.resolve())
    assert str(Path(sys.prefix).resolve()) in ro
    mounted = set(ro.values()) | {dest for _, dest in _pairs(cmd, "--bind")}
    for secret in (ROOT, ROOT / "source", ROOT / "course", ROOT / "gradebook.db"):
        assert str(secret) not in mounted


def test_a_missing_data_folder_is_not_mounted(box, monkeypatch, tmp_path):
    b, _ = box
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nao-existe"))
    assert str(tmp_path / "nao-existe") not in dict(_pairs(b.command(["k"]), "--ro-bind"))


def test_privileges_are_dropped_to_the_sandbox_uid_when_grading_as_root(box):
    b, _ = box
    b.drop_privileges = True
    cmd = b.command(["k"])
    assert f"--reuid={b.uid}" in cmd and "--no-new-privs" in cmd and "--bounding-set=-all" in cmd
    b.drop_privileges = False
    assert "setpriv" not in b.command(["k"])


def test_opting_out_needs_an_explicit_value(monkeypatch):
    for value, out in (("", False), ("0", False), ("1", True), ("sim", True)):
        monkeypatch.setenv(sandbox.OPT_OUT_VAR, value)
        assert sandbox.opted_out() is out


# --- the optional cgroup ----------------------------------------------------------------------------

def _cgroup_v2(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "cgroup.subtree_control").write_text("memory pids\n")
    monkeypatch.setattr(sandbox, "CGROUP_ROOT", root)
    return root


def test_a_cgroup_gets_the_memory_and_process_limits(tmp_path, monkeypatch):
    root = _cgroup_v2(tmp_path, monkeypatch)
    group = sandbox._Cgroup(sandbox.Limits(memory_mb=100, processes=10))
    (path,) = group.dirs
    assert path.parent == root
    assert (path / "pids.max").read_text() == "10"
    assert (path / "memory.max").read_text() == str(100 * 1024 * 1024)
    assert (path / "memory.swap.max").read_text() == "0"
    assert group.enter_command()[:2] == ["/bin/sh", "-c"] and str(path / "cgroup.procs") in group.enter_command()[2]
    (path / "pids.events").write_text("max 3\n")
    (path / "memory.events").write_text("low 0\noom_kill 0\n")
    assert group.hits() == ["limite de processos atingido"]


def test_without_a_writable_cgroup_there_is_none_and_no_prefix(tmp_path, monkeypatch):
    _cgroup_v2(tmp_path, monkeypatch)

    def refuse(self, *a, **kw):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    group = sandbox._Cgroup(sandbox.Limits())
    assert group.dirs == [] and group.enter_command() == [] and group.hits() == []


def test_a_limit_the_cgroup_refuses_is_not_dropped_without_a_word(tmp_path, monkeypatch):
    """The cgroup exists but one limit cannot be set (e.g. no swap accounting): the grader is told."""
    _cgroup_v2(tmp_path, monkeypatch)
    real_mkdir = Path.mkdir

    def mkdir_with_a_stuck_limit(self, *a, **kw):
        real_mkdir(self, *a, **kw)
        if self.parent == sandbox.CGROUP_ROOT:
            real_mkdir(self / "memory.max")  # writing to a folder fails with an OSError

    monkeypatch.setattr(Path, "mkdir", mkdir_with_a_stuck_limit)
    with pytest.warns(RuntimeWarning, match="memory.max") as seen:
        group = sandbox._Cgroup(sandbox.Limits(memory_mb=100))
    assert "limite" in str(seen[0].message) and "não foi aplicado" in str(seen[0].message)
    assert (group.dirs[0] / "pids.max").exists()  # the other limits are still set


# --- where the limits are set: nbgrader_config.py, with CURSO_SANDBOX_* overrides ---------------------

@pytest.fixture
def no_overrides(monkeypatch):
    for suffix in sandbox.ENV_OVERRIDES.values():
        monkeypatch.delenv(sandbox.ENV_PREFIX + suffix, raising=False)


def _config():
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


def test_every_limit_is_a_trait_set_in_the_config_with_a_documented_override():
    limits = {f.name for f in fields(sandbox.Limits)}
    traits = set(sandbox.SandboxProvisioner.class_own_traits(config=True))
    assert traits == limits == set(sandbox.ENV_OVERRIDES)
    assert set(_config().SandboxProvisioner) == limits
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for suffix in sandbox.ENV_OVERRIDES.values():
        assert f"`{sandbox.ENV_PREFIX}{suffix}`" in readme


def test_the_config_reaches_the_kernel_manager_through_nbgrader_execute(no_overrides, monkeypatch):
    from nbformat.v4 import new_notebook
    from traitlets.config import Config

    from course.execute import ProtectedExecute

    monkeypatch.delenv(sandbox.OPT_OUT_VAR, raising=False)
    config = Config(_config())
    config.SandboxProvisioner.memory_mb = 100
    config.SandboxProvisioner.processes = 7
    ep = ProtectedExecute(config=config)
    ep.nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    km = ep.create_kernel_manager()
    # the kernel spec names the course's provisioner, registered as an entry point (pyproject.toml)
    assert km.kernel_spec.metadata["kernel_provisioner"]["provisioner_name"] == sandbox.PROVISIONER_NAME
    from jupyter_client.provisioning import KernelProvisionerFactory

    provisioner = KernelProvisionerFactory.instance().create_provisioner_instance("k", km.kernel_spec, parent=km)
    assert isinstance(provisioner, sandbox.SandboxProvisioner)
    assert provisioner.limits() == sandbox.Limits(memory_mb=100, processes=7,
                                         **{k: v for k, v in _config().SandboxProvisioner.items()
                                            if k not in ("memory_mb", "processes")})


def test_an_environment_variable_overrides_one_configured_limit(no_overrides, monkeypatch):
    from traitlets.config import Config

    km = sandbox.SandboxProvisioner(config=Config({"SandboxProvisioner": {"memory_mb": 100,
                                                                                  "cpu_seconds": 60}}))
    monkeypatch.setenv("CURSO_SANDBOX_CPU_S", " 5 ")
    assert (km.limits().memory_mb, km.limits().cpu_seconds) == (100, 5)
    monkeypatch.setenv("CURSO_SANDBOX_CPU_S", "")
    assert km.limits().cpu_seconds == 60


def test_a_malformed_override_is_refused_in_portuguese(no_overrides, monkeypatch):
    monkeypatch.setenv("CURSO_SANDBOX_MEMORIA_MB", "6G")
    with pytest.raises(ValueError, match="CURSO_SANDBOX_MEMORIA_MB='6G': o limite deve ser um número inteiro"):
        sandbox.Limits().with_env_overrides()
    if sandbox.unavailable_reason() is None:  # before grading anyone, not in every student's kernel
        with pytest.raises(sandbox.SandboxUnavailable, match="CURSO_SANDBOX_MEMORIA_MB='6G'"):
            sandbox.require()


def test_a_sandbox_without_explicit_limits_reads_the_overrides_when_it_is_made(no_overrides, monkeypatch, box):
    monkeypatch.setenv("CURSO_SANDBOX_PROCESSOS", "12")
    b = sandbox.Sandbox(None)
    try:
        assert b.limits.processes == 12 and "--nproc=76" in b.command(["k"])
    finally:
        b.remove()


def test_the_timeout_error_name_is_the_one_the_report_recognizes():
    from course import execute
    from course.grading import autograde

    timeout = _config().Execute.error_on_timeout
    assert timeout["ename"] == execute.TIMEOUT == autograde.TIMEOUT_ENAME
    assert timeout["traceback"][0].startswith(execute.TIMEOUT + ":")


def test_without_the_sandbox_the_kernel_spec_is_left_alone(monkeypatch):
    from nbformat.v4 import new_notebook

    from course.execute import ProtectedExecute

    monkeypatch.setenv(sandbox.OPT_OUT_VAR, "1")
    with pytest.warns(UserWarning, match="SEM isolamento"):
        ep = ProtectedExecute()
    ep.nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    assert "kernel_provisioner" not in ep.create_kernel_manager().kernel_spec.metadata
