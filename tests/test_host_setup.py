"""A fresh machine without bubblewrap: installed when we may (root or passwordless sudo), else today's message.

The package managers and sudo are fakes on a private PATH (shell scripts that log their arguments);
the real bwrap is never touched: `shutil.which` sees only the fake folder.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from course import grading, sandbox, setup_host


def _script(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


FAKE_BWRAP = 'printf "#!/bin/sh\\nexit 0\\n" > "$D/bwrap"; /bin/chmod +x "$D/bwrap"'


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A PATH with nothing but what the test puts there; no bwrap; the sandbox's cache forgotten."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("CURSO_SEM_SANDBOX", raising=False)
    sandbox.unavailable_reason.cache_clear()
    said: list[str] = []

    class Host:
        bin = folder
        log = folder / "log"
        messages = said

        def manager(self, name: str, exit_code: int = 0) -> None:
            _script(folder, name, f'D={folder}\necho "{name} $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> "$D/log"\n'
                                  f'case "$*" in *install*) [ {exit_code} = 0 ] && {FAKE_BWRAP};; esac\n'
                                  f'exit {exit_code}\n')

        def sudo(self, passwordless: bool) -> None:
            _script(folder, "sudo", f'D={folder}\necho "sudo $*" >> "$D/log"\n'
                                    '[ "$1" = "-n" ] && shift\n'
                                    f'[ "$1" = "true" ] && exit {0 if passwordless else 1}\n'
                                    'while [ $# -gt 0 ]; do\n'
                                    '  case "$1" in *=*) export "$1"; shift;; *) break;; esac\n'
                                    'done\n'
                                    'exec "$@"\n')

        def calls(self) -> list[str]:
            return self.log.read_text().splitlines() if self.log.exists() else []

    yield Host()
    sandbox.unavailable_reason.cache_clear()


def test_root_with_apt_installs_bubblewrap_and_says_so(host, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    host.manager("apt-get")
    assert setup_host.ensure_bubblewrap(say=host.messages.append) is True
    assert host.calls() == ["apt-get update -qq DEBIAN_FRONTEND=noninteractive",
                            "apt-get install -y -qq bubblewrap DEBIAN_FRONTEND=noninteractive"]
    assert "instalando o pacote `bubblewrap` com o apt-get (como root)" in host.messages[0]
    assert host.messages[-1].startswith("bubblewrap instalado")
    assert (host.bin / "bwrap").exists()
    assert sandbox.unavailable_reason() is None  # the fake bwrap passes the sandbox's probe


def test_passwordless_sudo_with_dnf_installs_through_sudo(host, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    host.manager("dnf")
    host.sudo(passwordless=True)
    assert setup_host.ensure_bubblewrap(say=host.messages.append) is True
    calls = host.calls()
    assert calls[0] == "sudo -n true"
    assert calls[1].startswith("sudo -n DEBIAN_FRONTEND=noninteractive ")
    assert calls[1].endswith("/dnf install -y -q bubblewrap")
    assert calls[2] == "dnf install -y -q bubblewrap DEBIAN_FRONTEND=noninteractive"
    assert "(com sudo)" in host.messages[0]


def test_without_permission_nothing_is_installed_and_grading_stops_with_todays_message(host, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    host.manager("apt-get")
    host.sudo(passwordless=False)  # sudo would ask for a password
    assert setup_host.ensure_bubblewrap(say=host.messages.append) is False
    assert host.calls() == ["sudo -n true"] and host.messages == []
    with pytest.raises(sandbox.SandboxUnavailable, match="Instale-o"):
        grading.grade_class(course=None, progress=False)


def test_no_package_manager_or_a_failed_install_leaves_todays_message(host, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert setup_host.ensure_bubblewrap(say=host.messages.append) is False and host.messages == []
    host.manager("apt-get", exit_code=100)
    assert setup_host.ensure_bubblewrap(say=host.messages.append) is False
    assert "Não foi possível instalar o bubblewrap" in host.messages[-1]
    with pytest.raises(sandbox.SandboxUnavailable, match="bwrap"):
        sandbox.require()


def test_grading_installs_first_then_goes_on(host, monkeypatch):
    """`make demo` / `make corrigir` (grade_class): the install happens before the sandbox check."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    host.manager("apt-get")

    class Reached(Exception):
        pass

    class Course:
        def __getattr__(self, name):
            raise Reached(name)

    with pytest.raises(Reached):  # past sandbox.require(): grading itself started
        grading.grade_class(Course(), progress=False)
    assert any("install" in c for c in host.calls())


def test_bwrap_already_there_or_sandbox_opted_out_does_nothing(host, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    host.manager("apt-get")
    monkeypatch.setenv("CURSO_SEM_SANDBOX", "1")
    assert setup_host.ensure_bubblewrap(say=host.messages.append) is False
    monkeypatch.delenv("CURSO_SEM_SANDBOX")
    _script(host.bin, "bwrap", "exit 0\n")
    assert setup_host.ensure_bubblewrap(say=host.messages.append) is False
    assert host.calls() == [] and host.messages == []


def test_command_line_used_by_ci_fails_clearly_when_it_cannot_install(tmp_path):
    empty = tmp_path / "vazio"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "course.setup_host"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": str(empty), "HOME": str(tmp_path)}, timeout=60)
    assert proc.returncode == 1
    assert "ERRO: o bubblewrap (bwrap) não está instalado" in proc.stderr
    assert "sudo apt-get install bubblewrap" in proc.stderr
