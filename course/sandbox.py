"""Run autograding kernels inside a bubblewrap sandbox.

What the kernel sees: a scratch copy of the submission folder (writable, its working directory),
a private `/tmp` and home, the Python environment and system folders read-only, the dataset folder
read-only, and nothing else of the machine (no course directory, gradebook or other students).
It has no network, runs as an unprivileged user when grading runs as root, and is bounded in
memory, CPU time, processes, file size and open files. It talks to nbgrader over Unix-domain
sockets (ZeroMQ's IPC transport) in a private folder.

`CURSO_SEM_SANDBOX=1` turns it off explicitly (nbgrader then warns on every kernel). Without
bubblewrap, starting a kernel fails with a message that says how to install it.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner
from traitlets import Integer

OPT_OUT_VAR = "CURSO_SEM_SANDBOX"
# Each kernel runs as its own unprivileged uid (when grading runs as root), so the per-user process
# limit of one sandbox is not shared with another one (a fork bomb cannot starve a parallel grader).
UID_RANGE = (200_000, 899_999)
# Where the optional memory/process limits live (a cgroup the grader may create children in).
CGROUP_ROOT = Path("/sys/fs/cgroup")
HOME = "/home/aluno"
WORKDIR = f"{HOME}/trabalho"
# Variables the kernel may inherit; everything else of the grader's environment stays outside.
PASS_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "COURSE_DATA_DIR", "NBGRADER_EXECUTION",
            "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

INSTALL_HINT = (
    "A correção roda o código dos alunos isolado com o bubblewrap (bwrap), que não está disponível "
    "nesta máquina: {why}.\nInstale-o (Debian/Ubuntu: `sudo apt-get install bubblewrap`) e rode de novo. "
    f"Para corrigir SEM isolamento (o código dos alunos poderá ler as soluções, o gradebook e a rede), "
    f"defina {OPT_OUT_VAR}=1 por sua conta e risco.")


class SandboxUnavailable(RuntimeError):
    pass


# A limit set in nbgrader_config.py (`c.SandboxProvisioner.<limit>`) can be overridden for one run
# by the environment variable ENV_PREFIX + its suffix here (README, "Segurança da correção").
ENV_PREFIX = "CURSO_SANDBOX_"
ENV_OVERRIDES = {"memory_mb": "MEMORIA_MB", "address_space_mb": "ENDERECOS_MB", "cpu_seconds": "CPU_S",
                 "processes": "PROCESSOS", "file_size_mb": "ARQUIVO_MB", "open_files": "ARQUIVOS_ABERTOS"}


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 6144
    address_space_mb: int = 16384
    cpu_seconds: int = 1800
    processes: int = 256
    file_size_mb: int = 256
    open_files: int = 1024

    def with_env_overrides(self, env=None) -> Limits:
        """These limits, with the `CURSO_SANDBOX_*` environment variables that are set on top."""
        env = os.environ if env is None else env
        values = {}
        for name, suffix in ENV_OVERRIDES.items():
            raw = env.get(ENV_PREFIX + suffix, "").strip()
            if raw:
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX + suffix}={raw!r}: o limite deve ser um número inteiro") from None
        return replace(self, **values)


def opted_out() -> bool:
    return os.environ.get(OPT_OUT_VAR, "") not in ("", "0")


@lru_cache(maxsize=None)
def unavailable_reason() -> str | None:
    """None when bubblewrap can build the sandbox here; else why not (in Portuguese)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "o comando `bwrap` não foi encontrado no PATH"
    probe = subprocess.run([bwrap, *_system_binds(), "--unshare-net", "--unshare-pid",
                            "--die-with-parent", "--", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"o bwrap não conseguiu criar o isolamento ({probe.stderr.strip()[:300]})"
    return None


def require() -> None:
    """Raise SandboxUnavailable (with install instructions) unless the sandbox works or is opted out."""
    if opted_out():
        return
    why = unavailable_reason()
    if why:
        raise SandboxUnavailable(INSTALL_HINT.format(why=why))
    try:  # a mistyped override must stop the batch here, not fail every student's kernel
        Limits().with_env_overrides()
    except ValueError as exc:
        raise SandboxUnavailable(str(exc)) from None


def _system_binds() -> list[str]:
    args: list[str] = []
    for top in ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _python_binds() -> list[str]:
    """The Python environment (venv and base installation), read-only, at the paths it is used by."""
    paths: set[Path] = set()
    for p in (Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent.parent):
        paths.update({Path(os.path.abspath(p)), p.resolve()})
    targets = [p for p in sorted(paths)
               if p.is_dir() and not any(str(p) == t or str(p).startswith(t + "/") for t in ("/usr", "/etc"))]
    args = _parent_dirs(targets)
    for p in targets:
        args += ["--ro-bind", str(p.resolve()), str(p)]
    return args


def _parent_dirs(targets) -> list[str]:
    """Create the mount points' parent folders traversable (bwrap would copy e.g. /root's 0700)."""
    args: list[str] = []
    seen: set[str] = set()
    for target in targets:
        for parent in reversed(Path(target).parents):
            if str(parent) not in ("/", "/tmp", "/home") and str(parent) not in seen:
                seen.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
    return args


class _Cgroup:
    """Optional memory and process limits through a writable cgroup (v2, or v1 controllers)."""

    def __init__(self, limits: Limits):
        self.dirs: list[Path] = []
        name = f"curso-sandbox-{uuid.uuid4().hex[:12]}"
        root = CGROUP_ROOT
        candidates: list[tuple[Path, dict[str, str]]] = []
        mem = str(limits.memory_mb * 1024 * 1024)
        if (root / "cgroup.controllers").exists():
            controllers = (root / "cgroup.subtree_control").read_text().split() \
                if (root / "cgroup.subtree_control").exists() else []
            if "pids" in controllers and "memory" in controllers:
                candidates.append((root / name, {"pids.max": str(limits.processes),
                                                 "memory.max": mem, "memory.swap.max": "0"}))
        else:
            candidates.append((root / "pids" / name, {"pids.max": str(limits.processes)}))
            candidates.append((root / "memory" / name, {"memory.limit_in_bytes": mem}))
        for path, settings in candidates:
            try:
                path.mkdir()
            except OSError:
                continue
            self.dirs.append(path)
            for key, value in settings.items():
                try:
                    (path / key).write_text(value)
                except OSError as exc:
                    # the rlimits still apply, but the grader must know this limit is not enforced here
                    warnings.warn(f"sandbox: o limite {key}={value} não foi aplicado no cgroup {path} "
                                  f"({exc.strerror or exc}); vale só o limite do prlimit", RuntimeWarning,
                                  stacklevel=2)

    def hits(self) -> list[str]:
        """Which limits the kernel ran into, in Portuguese (from the cgroup's event counters)."""
        found: list[str] = []
        for d in self.dirs:
            for events, key, text in (("pids.events", "max", "limite de processos atingido"),
                                      ("memory.events", "oom_kill", "limite de memória atingido"),
                                      ("memory.oom_control", "oom_kill", "limite de memória atingido")):
                try:
                    counters = dict(line.split() for line in (d / events).read_text().splitlines() if line.strip())
                except (OSError, ValueError):
                    continue
                if int(counters.get(key, 0)) > 0 and text not in found:
                    found.append(text)
        return found

    def enter_command(self) -> list[str]:
        """Shell prefix that moves the launcher into the cgroups before exec'ing the sandbox."""
        if not self.dirs:
            return []
        moves = " && ".join(f"echo $$ > {d / 'cgroup.procs'}" for d in self.dirs)
        return ["/bin/sh", "-c", f'{moves} && exec "$@"', "cgroup-enter"]

    def remove(self) -> None:
        for d in self.dirs:
            for _ in range(50):
                try:
                    pids = (d / "cgroup.procs").read_text().split()
                except OSError:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), 9)
                    except OSError:
                        pass
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


class Sandbox:
    """One kernel's sandbox: a private folder with the IPC sockets and the scratch working copy."""

    def __init__(self, workdir: str | os.PathLike | None, limits: Limits | None = None):
        self.limits = limits or Limits().with_env_overrides()
        self.base = Path(tempfile.mkdtemp(prefix="curso-sandbox-"))
        os.chmod(self.base, 0o711)
        self.ipc_dir = self.base / "ipc"
        self.scratch = self.base / "trabalho"
        self.ipc_dir.mkdir()
        if workdir and Path(workdir).is_dir():
            shutil.copytree(workdir, self.scratch, symlinks=True)
        else:
            self.scratch.mkdir()
        self.drop_privileges = os.geteuid() == 0
        self.uid = random.SystemRandom().randint(*UID_RANGE)
        if self.drop_privileges:
            for path in (self.ipc_dir, self.scratch, *self.scratch.rglob("*")):
                os.lchown(path, self.uid, self.uid)
        os.chmod(self.ipc_dir, 0o700)
        self.cgroup = _Cgroup(self.limits)

    def command(self, kernel_cmd: list[str]) -> list[str]:
        lim = self.limits
        data = Path(os.environ.get("COURSE_DATA_DIR", "data")).resolve()
        # the private /tmp, /dev/shm and home come first, so that binds below them (a venv or a
        # dataset under /tmp) stay visible; /tmp, /dev/shm (DataLoader workers) and home are writable
        args = [shutil.which("bwrap") or "bwrap", *_system_binds(),
                "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
                "--perms", "1777", "--tmpfs", "/dev/shm", "--tmpfs", "/home", "--perms", "1777", "--dir", HOME,
                *_python_binds(), "--bind", str(self.scratch), WORKDIR,
                *_parent_dirs([self.ipc_dir]), "--bind", str(self.ipc_dir), str(self.ipc_dir)]
        if data.is_dir():
            args += [*_parent_dirs([data]), "--ro-bind", str(data), str(data)]
        args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                 "--unshare-cgroup-try", "--hostname", "correcao", "--die-with-parent",
                 "--chdir", WORKDIR, "--clearenv",
                 "--setenv", "HOME", HOME, "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin",
                 "--setenv", "TMPDIR", "/tmp", "--setenv", "MPLBACKEND", "module://matplotlib_inline.backend_inline"]
        for var in PASS_ENV:
            if var in os.environ:
                value = str(data) if var == "COURSE_DATA_DIR" else os.environ[var]
                args += ["--setenv", var, value]
        # the cgroup (when there is one) stops processes first and records it; the rlimit is a backstop
        args += ["--", "prlimit", f"--as={lim.address_space_mb * 1024 * 1024}",
                 f"--cpu={lim.cpu_seconds}", f"--nproc={lim.processes + 64}",
                 f"--fsize={lim.file_size_mb * 1024 * 1024}", f"--nofile={lim.open_files}",
                 "--core=0", "--"]
        if self.drop_privileges:
            args += ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        return [*self.cgroup.enter_command(), *args, *kernel_cmd]

    def limit_hits(self) -> list[str]:
        return self.cgroup.hits()

    def remove(self) -> None:
        self.cgroup.remove()
        shutil.rmtree(self.base, ignore_errors=True)


PROVISIONER_NAME = "curso-sandbox"  # the entry point in pyproject.toml (jupyter_client.kernel_provisioners)


class SandboxProvisioner(LocalProvisioner):
    """jupyter_client's kernel provisioner for the sandbox: the kernel process starts inside a `Sandbox`,
    with the limits configured here (`c.SandboxProvisioner.memory_mb = ...` in nbgrader_config.py;
    `CURSO_SANDBOX_*` overrides). A kernel gets it through its kernel spec (`use_sandbox(km)`)."""

    memory_mb = Integer(Limits.memory_mb, help="Memória do kernel, em MB (cgroup, quando há um gravável); "
                        f"variável {ENV_PREFIX}{ENV_OVERRIDES['memory_mb']}.").tag(config=True)
    address_space_mb = Integer(Limits.address_space_mb, help="Espaço de endereçamento, em MB (prlimit --as); "
                               f"variável {ENV_PREFIX}{ENV_OVERRIDES['address_space_mb']}.").tag(config=True)
    cpu_seconds = Integer(Limits.cpu_seconds, help="Tempo de CPU do kernel, em segundos (prlimit --cpu); "
                          f"variável {ENV_PREFIX}{ENV_OVERRIDES['cpu_seconds']}.").tag(config=True)
    processes = Integer(Limits.processes, help="Processos e threads (cgroup pids.max; prlimit --nproc com folga); "
                        f"variável {ENV_PREFIX}{ENV_OVERRIDES['processes']}.").tag(config=True)
    file_size_mb = Integer(Limits.file_size_mb, help="Tamanho máximo de um arquivo escrito, em MB; "
                           f"variável {ENV_PREFIX}{ENV_OVERRIDES['file_size_mb']}.").tag(config=True)
    open_files = Integer(Limits.open_files, help="Arquivos abertos ao mesmo tempo; "
                         f"variável {ENV_PREFIX}{ENV_OVERRIDES['open_files']}.").tag(config=True)

    sandbox: Sandbox | None = None

    def limits(self) -> Limits:
        """The configured limits, with the environment's overrides on top."""
        return Limits(**{f.name: getattr(self, f.name) for f in fields(Limits)}).with_env_overrides()

    async def pre_launch(self, **kwargs):
        require()
        km = self.parent
        if self.sandbox is None:
            self.sandbox = Sandbox(kwargs.get("cwd"), self.limits())
        # the kernel's sockets: ipc files in a folder the sandbox shares with the grader
        km.transport = "ipc"
        km.ip = str(self.sandbox.ipc_dir / "kernel")
        km.connection_file = str(self.sandbox.ipc_dir / "kernel.json")
        # Interrupt through the control channel: a signal to the process group would also hit
        # bubblewrap itself, which dies on SIGINT and takes the kernel with it.
        self.kernel_spec.interrupt_mode = "message"
        kwargs = await super().pre_launch(**kwargs)
        if self.sandbox.drop_privileges:
            os.chown(km.connection_file, self.sandbox.uid, self.sandbox.uid)
        kwargs["cmd"] = self.sandbox.command(kwargs["cmd"])
        kwargs["cwd"] = str(self.sandbox.scratch)
        kwargs.pop("env", None)  # the sandbox builds the kernel's environment itself
        # what the kernel process prints outside the notebook (its banner, a crash) is not the
        # grader's business: cell outputs travel over the kernel protocol
        kwargs["stdout"] = kwargs["stderr"] = subprocess.DEVNULL
        return kwargs

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        if not restart and self.sandbox is not None:
            self.sandbox.remove()
            self.sandbox = None


def use_sandbox(km) -> None:
    """Make this kernel manager start its kernels through `SandboxProvisioner` (before it starts one)."""
    km.kernel_spec.metadata["kernel_provisioner"] = {"provisioner_name": PROVISIONER_NAME, "config": {}}


def sandbox_of(km) -> Sandbox | None:
    """The sandbox of this kernel manager's running kernel, if it runs in one."""
    return getattr(getattr(km, "provisioner", None), "sandbox", None)
