"""Fresh-machine set-up: install bubblewrap (the grading sandbox) when it is missing and we may.

`make demo` and `make corrigir` call `ensure_bubblewrap()` before grading, and `.ci/run` runs
`python3 -m course.setup_host` (this module needs only the standard library). It installs the
package when `bwrap` is not on PATH, a known package manager is (apt-get on Debian/Ubuntu, dnf on
Fedora) and this user can install packages: root, or passwordless `sudo` (`sudo -n`). Otherwise it
does nothing, and grading stops with `course.sandbox`'s message saying how to install it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

PACKAGE = "bubblewrap"
# package manager -> the commands that install bubblewrap, run as root, in order
MANAGERS: dict[str, list[list[str]]] = {
    "apt-get": [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", PACKAGE]],
    "dnf": [["dnf", "install", "-y", "-q", PACKAGE]],
}
NONINTERACTIVE = {"DEBIAN_FRONTEND": "noninteractive"}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def root_prefix() -> list[str] | None:
    """How to run a command as root here: [] when we are root, [sudo, -n] with passwordless sudo, else None."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo:
        try:
            ok = subprocess.run([sudo, "-n", "true"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return [sudo, "-n"]
    return None


def install_plan() -> tuple[str, list[list[str]]] | None:
    """(package manager, full commands) that would install bubblewrap, or None if we cannot."""
    manager = next((m for m in MANAGERS if shutil.which(m)), None)
    if manager is None:
        return None
    prefix = root_prefix()
    if prefix is None:
        return None
    # sudo resets the environment: the variable goes on its command line
    env = [f"{k}={v}" for k, v in NONINTERACTIVE.items()] if prefix else []
    return manager, [[*prefix, *env, shutil.which(cmd[0]) or cmd[0], *cmd[1:]] for cmd in MANAGERS[manager]]


def ensure_bubblewrap(say=_say) -> bool:
    """Install bubblewrap if it is missing and we can; True when it was installed now."""
    if os.environ.get("CURSO_SEM_SANDBOX", "") not in ("", "0") or shutil.which("bwrap"):
        return False
    plan = install_plan()
    if plan is None:
        return False
    manager, commands = plan
    how = "como root" if commands[0][0] != shutil.which("sudo") else "com sudo"
    say(f"O bubblewrap (isolamento da correção) não está instalado: instalando o pacote `{PACKAGE}` "
        f"com o {manager} ({how})…")
    env = dict(os.environ, **NONINTERACTIVE)
    for cmd in commands:
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            say(f"Não foi possível instalar o bubblewrap ({exc}).")
            return False
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            say(f"Não foi possível instalar o bubblewrap: `{' '.join(cmd)}` falhou (código {proc.returncode}): "
                + " | ".join(tail))
            return False
    if not shutil.which("bwrap"):
        say(f"O {manager} terminou, mas o comando `bwrap` continua fora do PATH.")
        return False
    if "course.sandbox" in sys.modules:  # forget the earlier "not found"
        sys.modules["course.sandbox"].unavailable_reason.cache_clear()
    say(f"bubblewrap instalado ({shutil.which('bwrap')}).")
    return True


def main() -> int:
    """`python3 -m course.setup_host`: 0 when bwrap is available at the end, 1 otherwise."""
    ensure_bubblewrap()
    if shutil.which("bwrap"):
        return 0
    _say("ERRO: o bubblewrap (bwrap) não está instalado e não foi possível instalá-lo daqui "
         "(é preciso ser root ou ter sudo sem senha, com apt-get ou dnf). "
         f"Instale-o à mão: `sudo apt-get install {PACKAGE}` (Debian/Ubuntu) ou `sudo dnf install {PACKAGE}` (Fedora).")
    return 1


if __name__ == "__main__":
    sys.exit(main())
