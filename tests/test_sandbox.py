"""Sandboxed autograding: hostile submissions are contained, honest ones grade the same."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

import submissions as S
from conftest import ASSIGNMENT, MINI_LIMITS, ROOT, mini_course, place, total
from course import grading, notebooks as nbt, sandbox
from course.grading import engine

SECRET_VAR = "SEGREDO_DO_INSTRUTOR"

ATTACKS = '''
import json, os, shutil, socket
RAIZ = {root!r}
resultado = {{}}
def tenta(nome, acao):
    try:
        acao()
        resultado[nome] = "PERMITIDO"
    except (OSError, KeyError):  # no permission, file or network; no such variable
        resultado[nome] = "BLOQUEADO"
    except Exception as exc:  # a broken attack is not a blocked one
        resultado[nome] = "FALHOU: " + type(exc).__name__ + ": " + str(exc)
tenta("ler_solucao", lambda: open(RAIZ + "/source/modulo2/00_mini.ipynb").read())
tenta("ler_gradebook", lambda: open(RAIZ + "/gradebook.db", "rb").read(100))
tenta("ler_config", lambda: open(RAIZ + "/nbgrader_config.py").read())
tenta("ler_outro_aluno", lambda: open(RAIZ + "/submitted/honesta/modulo2/00_mini.ipynb").read())
tenta("rede_local", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3).close())
tenta("rede_externa", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3).close())
tenta("segredo_do_ambiente", lambda: os.environ[{secret!r}])
tenta("escrever_dados", lambda: open(os.environ["COURSE_DATA_DIR"] + "/invasao.txt", "w").write("x"))
tenta("escrever_python", lambda: open({venv!r} + "/invasao.txt", "w").write("x"))
tenta("escrever_tmp_privado", lambda: open("/tmp/rascunho.txt", "w").write("x"))
tenta("escrever_pasta_de_trabalho", lambda: open("rascunho.txt", "w").write("x"))
tenta("ler_dados", lambda: os.listdir(os.environ["COURSE_DATA_DIR"]))
{destructive}
print("RESULTADO=" + json.dumps(resultado))
def dobro(x):
    return 2 * x
'''

DESTRUCTIVE = '''
tenta("escrever_curso", lambda: open(RAIZ + "/invasao.txt", "w").write("x"))
tenta("apagar_release", lambda: os.remove(RAIZ + "/release/modulo2/00_mini.ipynb"))
tenta("apagar_curso", lambda: shutil.rmtree(RAIZ))
os.chdir("/")
'''

EXPECT_BLOCKED = ["ler_solucao", "ler_gradebook", "ler_config", "ler_outro_aluno", "rede_local", "rede_externa",
                  "segredo_do_ambiente", "escrever_dados", "escrever_python", "escrever_curso", "apagar_release",
                  "apagar_curso"]
EXPECT_ALLOWED = ["escrever_tmp_privado", "escrever_pasta_de_trabalho", "ler_dados"]

BOMBS = {
    # classic fork bomb before the answer: the answer never gets defined
    "bomba_fork": ("ex2_raiz", "import os\nwhile True:\n    os.fork()\n", "processos"),
    "bomba_memoria": ("ex2_raiz", "blocos = []\nwhile True:\n    blocos.append(bytearray(b'x' * 100_000_000))\n",
                      "memória"),
    "cpu_sem_fim": ("ex2_raiz", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n",
                    "travado"),
}


class Listener:
    """A TCP server on the grader's loopback that records any connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def snapshot(root, skip=("autograded", "feedback", "gradebook.db", grading.ORIGINALS, "grades.csv",
                         grading.REPORT_CSV, grading.REPORT_MD, engine.LEDGER)):
    digest = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] not in skip and "__pycache__" not in rel.parts:
            digest[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def attack_code(course, port, destructive=True, venv=sys.prefix):
    return ATTACKS.format(root=str(course.root), port=port, secret=SECRET_VAR, venv=str(venv),
                          destructive=DESTRUCTIVE if destructive else "")


def results_of(course, student):
    nb = nbt.read(course.autograded_dir(student) / "00_mini.ipynb")
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if "RESULTADO=" in text:
                return json.loads(text.split("RESULTADO=", 1)[1].splitlines()[0])
    raise AssertionError("a submissão hostil não chegou a imprimir o resultado")


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    pytest.importorskip("nbgrader")
    if sandbox.unavailable_reason():
        pytest.fail(f"sandbox indisponível: {sandbox.unavailable_reason()}")
    course, release, source = mini_course(tmp_path_factory.mktemp("hostil"))
    listener = Listener()
    place(course, "honesta", S.ok(release, source))
    place(course, "hostil", {"00_mini.ipynb": nbt.writes_bytes(
        nbt.fill_answers(release, dict(nbt.solution_sources(source), ex1_dobro=attack_code(course, listener.port))))})
    for student, (cell, bomb, _) in BOMBS.items():
        answers = dict(nbt.solution_sources(source))
        answers[cell] = bomb + answers[cell]
        place(course, student, {"00_mini.ipynb": nbt.writes_bytes(nbt.fill_answers(release, answers))})
    before = snapshot(course.root)
    os.environ[SECRET_VAR] = "senha-do-instrutor"
    try:
        outcome = grading.grade_class(course, progress=False, **MINI_LIMITS)
    finally:
        del os.environ[SECRET_VAR]
        listener.close()
    yield course, outcome, before, listener
    import shutil
    shutil.rmtree(course.root, ignore_errors=True)


@pytest.mark.parametrize("attack", EXPECT_BLOCKED)
def test_hostile_action_is_blocked(hostile_batch, attack):
    course, _, _, _ = hostile_batch
    assert results_of(course, "hostil")[attack] == "BLOQUEADO"


@pytest.mark.parametrize("action", EXPECT_ALLOWED)
def test_the_kernel_still_has_what_honest_code_needs(hostile_batch, action):
    course, _, _, _ = hostile_batch
    assert results_of(course, "hostil")[action] == "PERMITIDO"


def test_no_connection_reached_the_grader_machine(hostile_batch):
    assert hostile_batch[3].connections == 0


def test_nothing_in_the_course_directory_changed(hostile_batch):
    course, _, before, _ = hostile_batch
    assert snapshot(course.root) == before


def test_hostile_but_correct_answers_still_score_and_honest_student_is_untouched(hostile_batch):
    _, outcome, _, _ = hostile_batch
    assert total(outcome, "honesta") == 5
    assert total(outcome, "hostil") == 5


@pytest.mark.parametrize("student", list(BOMBS))
def test_bombs_are_stopped_scored_zero_with_a_reason_and_the_batch_goes_on(hostile_batch, student):
    _, outcome, _, _ = hostile_batch
    scores = outcome.scores[student]["00_mini"]
    assert scores["ex2_raiz_testes"][0] == 0 and scores["ex1_dobro_testes"][0] == 3
    notes = " | ".join(n.message for n in outcome.notes[student])
    assert BOMBS[student][2] in notes, notes


def test_without_sandbox_the_same_attack_succeeds(tmp_path, monkeypatch):
    """Control: the attack test can fail — with the sandbox off, the same code reads the solution,
    the gradebook and the instructor's secret, reaches the grader's network and writes where it
    should not. Here "where it should not" are stand-ins in tmp_path (never the real data folder or
    Python environment)."""
    course, release, source = mini_course(tmp_path / "curso")
    data, python = tmp_path / "dados", tmp_path / "python"
    data.mkdir()
    python.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    monkeypatch.setenv(SECRET_VAR, "senha-do-instrutor")
    monkeypatch.setenv(sandbox.OPT_OUT_VAR, "1")
    listener = Listener()
    try:
        code = attack_code(course, listener.port, destructive=False, venv=python)
        place(course, "hostil", {"00_mini.ipynb": nbt.writes_bytes(
            nbt.fill_answers(release, dict(nbt.solution_sources(source), ex1_dobro=code)))})
        grading.grade_class(course, progress=False, feedback=False, **MINI_LIMITS)
    finally:
        listener.close()
    result = results_of(course, "hostil")
    succeeded = ["ler_solucao", "ler_gradebook", "ler_config", "rede_local", "segredo_do_ambiente",
                 "escrever_dados", "escrever_python", "ler_dados"]
    assert {a: result[a] for a in succeeded} == dict.fromkeys(succeeded, "PERMITIDO"), result
    assert (data / "invasao.txt").exists() and (python / "invasao.txt").exists()
    assert listener.connections == 1


def test_honest_results_are_identical_with_and_without_sandbox(tmp_path):
    scores = {}
    for mode in ("sandbox", "sem"):
        course, release, source = mini_course(tmp_path / mode)
        for student in ("ok", "kernel_exit"):
            place(course, student, S.EXPECTED[student][0](release, source))
        if mode == "sem":
            os.environ[sandbox.OPT_OUT_VAR] = "1"
        try:
            outcome = grading.grade_class(course, progress=False, feedback=False, **MINI_LIMITS)
        finally:
            os.environ.pop(sandbox.OPT_OUT_VAR, None)
        scores[mode] = outcome.scores
    assert scores["sandbox"] == scores["sem"]


def test_missing_bubblewrap_is_reported_clearly_and_nothing_is_graded(tmp_path):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))
    env.pop(sandbox.OPT_OUT_VAR, None)
    proc = subprocess.run([sys.executable, "-m", "course", "corrigir"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "bubblewrap" in proc.stderr and "apt-get install bubblewrap" in proc.stderr
    assert sandbox.OPT_OUT_VAR in proc.stderr


def test_plain_nbgrader_autograde_refuses_to_run_unsandboxed_kernels(tmp_path):
    """Even `nbgrader autograde` called by hand (not through our command) never runs unisolated."""
    course, release, source = mini_course(tmp_path)
    place(course, "ana", S.ok(release, source))
    env = {"PATH": os.path.dirname(sys.executable), "COURSE_DATA_DIR": os.environ["COURSE_DATA_DIR"]}
    proc = course.nbgrader("autograde", ASSIGNMENT, "--student", "ana", check=False, env=env)
    assert proc.returncode != 0
    assert "bubblewrap" in proc.stderr
    assert not (course.autograded_dir("ana") / "00_mini.ipynb").exists()
