"""The `python -m course` command line: Portuguese names, the earlier English ones still accepted."""
from __future__ import annotations

import pytest

from course.__main__ import build_parser


@pytest.mark.parametrize("typed, command", [
    (["verificar", "02_calculo_dl"], "verificar"), (["check", "02_calculo_dl"], "verificar"),
    (["variantes"], "variantes"), (["variants"], "variantes"),
    (["mutantes", "--triagem"], "mutantes"), (["mutants", "--triagem"], "mutantes"),
    (["selos"], "selos"), (["badges"], "selos"), (["corrigir"], "corrigir"), (["demo"], "demo"),
])
def test_each_command_has_one_name_and_its_old_alias(typed, command):
    assert build_parser().parse_args(typed).command == command


@pytest.mark.parametrize("flag", ["--processos", "--jobs"])
def test_the_parallelism_flag_and_its_alias(flag):
    assert build_parser().parse_args(["variantes", flag, "3"]).jobs == 3
