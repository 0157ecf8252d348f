"""Realistic bad, broken and hostile submissions of the fixture notebook `00_mini`, for the grading tests.

Each builder takes the student version (release) and the source notebook and returns what the
student's folder holds: {file name: bytes}. `EXPECTED` says the score each must get (out of 5) and a
word the report must give for it.
"""
from __future__ import annotations

import copy
import json

import nbformat

from course import notebooks as nbt

NAME = "00_mini"
FILE = f"{NAME}.ipynb"


def _bytes(nb) -> bytes:
    return (nbformat.writes(nb) + "\n").encode()


def solved(release, source):
    return nbt.fill_answers(release, nbt.solution_sources(source))


def _with_answers(release, source, **answers):
    filled = dict(nbt.solution_sources(source), **answers)
    return nbt.fill_answers(release, filled)


def _cell(nb, gid):
    return next(c for c in nb.cells if nbt.grade_id(c) == gid)


def ok(release, source):
    return {FILE: _bytes(solved(release, source))}


def untouched(release, source):
    return {FILE: _bytes(release)}


def edited_tests(release, source):
    nb = solved(release, source)
    _cell(nb, "ex1_dobro_testes").source = "pass  # apaguei os testes"
    _cell(nb, "ex2_raiz_verificacao").source = "print('tudo certo!')"
    return {FILE: _bytes(nb)}


def deleted_tests(release, source):
    nb = solved(release, source)
    nb.cells = [c for c in nb.cells if nbt.grade_id(c) not in ("ex1_dobro_verificacao", "ex1_dobro_testes",
                                                                 "ex2_raiz_testes")]
    return {FILE: _bytes(nb)}


def duplicated_cells(release, source):
    nb = solved(release, source)
    answer, test = _cell(nb, "ex1_dobro"), _cell(nb, "ex2_raiz_testes")
    first = copy.deepcopy(answer)
    first.id, first.source = "copia1", "def dobro(x):\n    return x  # primeira tentativa"
    twin = copy.deepcopy(test)
    twin.id = "copia2"
    nb.cells.insert(nb.cells.index(answer), first)
    nb.cells.insert(nb.cells.index(test) + 1, twin)
    return {FILE: _bytes(nb)}


def changed_types(release, source):
    nb = solved(release, source)
    test1, test2 = _cell(nb, "ex1_dobro_testes"), _cell(nb, "ex2_raiz_testes")
    md = nbformat.v4.new_markdown_cell(test1.source, metadata=test1.metadata, id=test1.id)
    raw = nbformat.v4.new_raw_cell(test2.source, metadata=test2.metadata, id=test2.id)
    nb.cells[nb.cells.index(test1)] = md
    nb.cells[nb.cells.index(test2)] = raw
    return {FILE: _bytes(nb)}


def malformed_json(release, source):
    return {FILE: _bytes(solved(release, source))[:-200]}


def empty_file(release, source):
    return {FILE: b""}


def wrong_name(release, source):
    return {f"Cópia de {NAME} (1).ipynb": _bytes(solved(release, source))}


def missing_notebook(release, source):
    return {"anotacoes.txt": "esqueci de anexar o notebook".encode()}


def infinite_loop(release, source):
    return {FILE: _bytes(_with_answers(release, source, ex1_dobro="while True:\n    pass"))}


def ignores_interrupt(release, source):
    code = ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "def raiz(x):\n    return x ** 0.5\nwhile True:\n    pass")
    return {FILE: _bytes(_with_answers(release, source, ex2_raiz=code))}


def _answer_then(crash: str):
    """ex2 answered correctly, then the cell kills its own kernel."""
    def build(release, source):
        code = "def raiz(x):\n    return x ** 0.5\n" + crash
        return {FILE: _bytes(_with_answers(release, source, ex2_raiz=code))}
    return build


kernel_exit = _answer_then("import os\nos._exit(3)")
segfault = _answer_then("import ctypes\nctypes.string_at(0)")


def memory_bomb(release, source):
    code = ("blocos = []\nwhile True:\n    blocos.append(bytearray(b'x' * 200_000_000))\n"
            "def raiz(x):\n    return x ** 0.5")
    return {FILE: _bytes(_with_answers(release, source, ex2_raiz=code))}


def fork_bomb(release, source):
    code = ("import os\ndef raiz(x):\n    return x ** 0.5\nfilhos = 0\ntry:\n    while True:\n"
            "        if os.fork() == 0:\n            import time\n            time.sleep(30)\n            os._exit(0)\n"
            "        filhos += 1\nexcept OSError as exc:\n"
            "    print('fork bloqueado depois de', filhos, 'processos:', exc)")
    return {FILE: _bytes(_with_answers(release, source, ex2_raiz=code))}


def cpu_spin(release, source):
    return {FILE: _bytes(_with_answers(release, source, ex1_dobro="x = 0\nwhile True:\n    x += 1"))}


def huge_output(release, source):
    code = "for _ in range(200):\n    print('x' * 100_000)\ndef dobro(x):\n    return 2 * x"
    return {FILE: _bytes(_with_answers(release, source, ex1_dobro=code))}


def stderr_noise(release, source):
    code = ("import sys, warnings\nprint('depurando...', file=sys.stderr)\n"
            "def dobro(x):\n    warnings.warn('aviso inofensivo', UserWarning)\n"
            "    print('calculando', file=sys.stderr)\n    return 2 * x")
    return {FILE: _bytes(_with_answers(release, source, ex1_dobro=code))}


def colab_saved(release, source):
    return {FILE: as_colab(solved(release, source))}


def as_colab(nb) -> bytes:
    """A notebook as Google Colab saves it (nbformat 4.0, no ids, colab metadata, outputs)."""
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 0
    data["metadata"] = {"colab": {"provenance": [], "name": "notebook.ipynb"},
                        "kernelspec": {"name": "python3", "display_name": "Python 3"},
                        "accelerator": "GPU", "language_info": {"name": "python"}}
    for i, cell in enumerate(data["cells"]):
        cell.pop("id", None)
        cell["metadata"]["id"] = f"colabcell{i}"
        if cell["cell_type"] == "code":
            cell["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
            cell["metadata"]["outputId"] = f"out-{i}"
            cell["execution_count"] = i + 1
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["saída guardada\n"]}]
    return json.dumps(data, indent=2).encode()


# student id -> (builder, expected score out of 5, word expected in the report or None)
EXPECTED = {
    "ok": (ok, 5, None),
    "vazio": (untouched, 0, None),
    "testes_editados": (edited_tests, 5, None),
    "testes_apagados": (deleted_tests, 5, "restauradas"),
    "celulas_duplicadas": (duplicated_cells, 5, "copiada e colada"),
    "tipos_trocados": (changed_types, 5, "tipo trocado"),
    "json_quebrado": (malformed_json, 0, "JSON inválido"),
    "arquivo_vazio": (empty_file, 0, "arquivo vazio"),
    "nome_errado": (wrong_name, 5, "renomeado"),
    "sem_notebook": (missing_notebook, 0, "não entregue"),
    "loop_infinito": (infinite_loop, 2, "tempo limite"),
    "ignora_interrupcao": (ignores_interrupt, 3, "travado"),
    "kernel_exit": (kernel_exit, 3, "kernel morreu"),
    "segfault": (segfault, 3, "kernel morreu"),
    "bomba_memoria": (memory_bomb, 3, None),
    "bomba_fork": (fork_bomb, 5, None),
    "cpu_infinita": (cpu_spin, 2, "tempo limite"),
    "saida_enorme": (huge_output, 5, None),
    "stderr": (stderr_noise, 5, None),
    "colab": (colab_saved, 5, "Colab"),
}
