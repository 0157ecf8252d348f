"""No navegador de verdade: o Chromium do Debian, guiado pelo Playwright, no JupyterLab do aluno
(com as extensões do nbgrader), no formgrader do instrutor e na devolutiva em HTML.

Os servidores são iniciados aqui mesmo, em 127.0.0.1, com HOME e pastas do Jupyter temporárias.
Cada teste grava capturas de tela em build/navegador/. Os três testes seguem a mesma turma, nesta
ordem: a aluna busca, resolve, valida e entrega a aula 2.2 pela Assignment List; o instrutor coleta e
corrige (course.grading.grade_class) e o formgrader mostra a nota; a devolutiva abre no navegador.
"""
from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import ASSIGNMENT, ROOT
from course import grading, notebooks as nbt
from course.workspace import kernel_environment, scratch_course

pytestmark = pytest.mark.navegador

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "build" / "navegador"
TOKEN = "token-dos-testes-do-navegador"
LESSON = "02_calculo_dl"  # a aula mais curta de rodar (~12 s)
EXERCISE = "ex1_diferenca_central"
STUB = "raise NotImplementedError()"
# A resposta que a aluna digita: correta, mas escrita de outro jeito que a do gabarito (assim dá para
# ver que a devolutiva mostra a resposta dela e nunca a implementação de referência).
ANSWER = "return float(f(x + h) - f(x - h)) / (2 * h)"
# Run → "Executar todos" sem notebook aberto, "Executar todas as células" com um notebook
RUN_ALL = re.compile(r"^Executar (todos|todas as células)$")
STUDENT = pwd.getpwuid(os.getuid()).pw_name  # a troca (exchange) do nbgrader conhece o aluno pelo login


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


@contextmanager
def failure_shot(page, name: str):
    """Se o teste falhar aqui dentro, grava o que o navegador mostrava (build/navegador/FALHA_*.png)."""
    try:
        yield
    except BaseException:
        try:
            shot(page, f"FALHA_{name}")
        except Exception:  # noqa: BLE001 — a falha original é a que importa
            pass
        raise


# --- servidores ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(home: Path) -> dict:
    """Ambiente de um usuário novo: HOME e pastas do Jupyter vazias (nada do usuário desta máquina)."""
    env = kernel_environment(dict(os.environ))
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
               JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
               JUPYTER_RUNTIME_DIR=str(home / ".local/share/jupyter/runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / ".jupyter/lab/user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / ".jupyter/lab/workspaces"))
    env.pop("JUPYTER_PATH", None)
    return env


def lab_settings(home: Path) -> None:
    """Interface em português (pacote de idioma pt-BR), sem avisos de notícias e com todas as células
    no DOM (sem janela de rolagem virtual: o teste procura células pelo índice)."""
    settings = {
        "@jupyterlab/translation-extension/plugin": {"locale": "pt_BR"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }
    for name, values in settings.items():
        path = home / ".jupyter/lab/user-settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


@contextmanager
def jupyter(app: str, root: Path, env: dict, log: Path):
    """`jupyter lab` ou `jupyter server` em 127.0.0.1 (porta livre, token fixo); encerrado no fim."""
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", app, "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.open_browser=False", "--ServerApp.allow_root=True",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}"]
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"o servidor {app} saiu com código {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"o servidor {app} não respondeu em 120 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.25)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# --- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def navegador(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium não encontrado em {CHROMIUM}: os testes do navegador precisam dele. Instale com "
                    "`sudo apt-get install -y chromium` (Debian/Ubuntu; o .ci/run já instala).", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("O pacote playwright não está instalado: rode `make venv` (requirements.txt). "
                    "Não rode `playwright install`: o teste usa o Chromium do sistema.", pytrace=False)
    profile = tmp_path_factory.mktemp("perfil-chromium")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1440, "height": 900}, locale="pt-BR")
        context.set_default_timeout(60_000)
        from playwright.sync_api import expect

        expect.set_options(timeout=90_000)  # a máquina de CI é lenta: esperas longas, nenhuma pausa fixa
        yield context
        context.close()


@pytest.fixture(scope="module")
def turma(tmp_path_factory):
    """Curso de rascunho só com a aula 2.2, liberada numa troca (exchange) local."""
    base = tmp_path_factory.mktemp("navegador")
    course = scratch_course([LESSON], parent=base)
    course.generate_release()
    exchange = base / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    flags = (f"--Exchange.root={exchange}",)
    course.nbgrader("release_assignment", ASSIGNMENT, *flags)
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
    state = {"course": course, "exchange": exchange, "flags": flags, "base": base,
             "course_id": config.CourseDirectory.course_id}
    yield state
    shutil.rmtree(base, ignore_errors=True)


def _cells(page):
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")


def _no_running_cells(page):
    from playwright.sync_api import expect

    expect(page.locator(".jp-NotebookPanel:visible .jp-InputPrompt", has_text="[*]")).to_have_count(
        0, timeout=180_000)


def _menu(page, top: str, item: str):
    """Um item de menu. Os títulos da barra vêm em inglês ou em português conforme o pacote de idioma
    (o pt-BR 4.5 não traduz os do JupyterLab 4.6): `top` é uma expressão regular (ex.: "Run|Executar");
    o item é procurado pelo texto exato, já traduzido."""
    page.locator("#jp-MainMenu").get_by_role("menuitem", name=re.compile(f"^({top})$")).click()
    # o nome acessível de um item pode trazer o atalho de teclado depois do rótulo
    name = item if isinstance(item, re.Pattern) else re.compile(f"^{re.escape(item)}")
    page.locator(".lm-Menu").get_by_role("menuitem", name=name).click()


# --- aluna -----------------------------------------------------------------------------------------

def test_aluna_busca_resolve_valida_e_entrega_no_jupyterlab(navegador, turma):
    from playwright.sync_api import expect

    course = turma["course"]
    source = nbt.read(course.source_dir / f"{LESSON}.ipynb")
    release = nbt.read(course.release_dir / f"{LESSON}.ipynb")
    ids = [nbt.grade_id(c) for c in release.cells]
    sol = ids.index(EXERCISE)
    check = sol + 1  # a célula de verificação visível, logo abaixo da resposta
    grade = next(i for i, c in enumerate(release.cells) if nbt.is_autograded_test(c)
                 and nbt.exercise_of(nbt.grade_id(c), [EXERCISE]) == EXERCISE)
    assert release.cells[sol].source.count(STUB) == 1, "a versão do aluno deveria trazer o stub do exercício"

    home = turma["base"] / "aluna"
    (home / ".jupyter").mkdir(parents=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(turma['exchange'])!r}\n"
        f"c.CourseDirectory.course_id = {turma['course_id']!r}\n", encoding="utf-8")
    lab_settings(home)
    page = navegador.new_page()
    with jupyter("lab", home, jupyter_env(home), turma["base"] / "jupyterlab-aluna.log") as url, \
            failure_shot(page, "aluna"):
        page.goto(f"{url}/lab?token={TOKEN}")
        # interface em português (pacote de idioma pt-BR): o iniciador e os itens do menu Executar
        expect(page.get_by_role("tab", name="Iniciador")).to_be_visible()
        page.locator("#jp-MainMenu").get_by_role("menuitem", name=re.compile("^(Run|Executar)$")).click()
        expect(page.locator(".lm-Menu").get_by_role("menuitem", name=RUN_ALL)).to_be_visible()
        shot(page, "01_aluna_jupyterlab_em_portugues")
        page.keyboard.press("Escape")

        # Assignment List (extensão do nbgrader): buscar a tarefa liberada
        _menu(page, "Nbgrader", "Assignment List")
        released = page.locator("#released_assignments_list")
        expect(released.get_by_text(ASSIGNMENT)).to_be_visible()
        shot(page, "02_aluna_tarefa_liberada")
        released.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list")
        expect(fetched.get_by_text(ASSIGNMENT)).to_be_visible()
        path = home / ASSIGNMENT / f"{LESSON}.ipynb"
        assert path.exists(), f"fetch deveria criar {path}"

        # as outras respostas já estão prontas (a aluna fez antes); esta ela digita no navegador
        answers = {k: v for k, v in nbt.solution_sources(source).items() if k != EXERCISE}
        nbt.write(nbt.fill_answers(nbt.read(path), answers), path)
        fetched.get_by_text(ASSIGNMENT, exact=True).click()  # abre a lista de notebooks da tarefa
        fetched.get_by_text(LESSON, exact=True).click()
        expect(_cells(page)).to_have_count(len(release.cells))
        # o kernel pronto antes de executar (barra de status: "Python 3 (ipykernel) | Idle")
        expect(page.get_by_text(re.compile(r"\| (Idle|Ocioso)$")).first).to_be_visible()

        # Run → Executar todas as células: para no exercício sem resposta
        _menu(page, "Run|Executar", RUN_ALL)
        expect(_cells(page).nth(check).locator(".jp-OutputArea-output")).to_contain_text(
            "NotImplementedError", timeout=180_000)
        _no_running_cells(page)
        _cells(page).nth(check).scroll_into_view_if_needed()
        shot(page, "03_aluna_exercicio_sem_resposta")

        # digita a resposta na célula do exercício (no lugar do stub) e roda dali para baixo
        stub = _cells(page).nth(sol).locator(".cm-line", has_text=STUB)
        stub.click()
        page.keyboard.press("End")
        page.keyboard.press("Shift+Home")
        page.keyboard.type(ANSWER)
        expect(_cells(page).nth(sol).locator(".cm-content")).to_contain_text(ANSWER)
        _menu(page, "Run|Executar", re.compile(r"^Executar células? selecionadas? e todas abaixo"))
        last_code = max(i for i, c in enumerate(release.cells) if c.cell_type == "code")
        expect(_cells(page).nth(last_code).locator(".jp-InputPrompt")).to_have_text(
            re.compile(r"\[\d+\]:"), timeout=180_000)
        _no_running_cells(page)
        expect(_cells(page).nth(check).locator(".jp-OutputArea-output")).to_contain_text("✅")
        # a célula de testes rodou sem erro (o código dela cita NotImplementedError num comentário)
        expect(_cells(page).nth(grade).locator(".jp-OutputArea")).not_to_contain_text("Error")
        _cells(page).nth(check).scroll_into_view_if_needed()
        shot(page, "04_aluna_resposta_digitada_e_executada")

        dirty = page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")
        expect(dirty).to_have_count(1)  # a resposta digitada ainda não foi salva
        page.keyboard.press("Control+s")
        # espera o salvamento terminar (a aba perde a marca de modificada): o Validate salva de novo, e um
        # segundo salvamento com o primeiro ainda em voo vê o arquivo "modificado no disco" e abre um diálogo
        expect(dirty).to_have_count(0, timeout=30_000)

        # Validate (extensão do nbgrader): salva e roda o notebook inteiro num kernel novo
        page.locator(".jp-NotebookPanel:visible").get_by_role("button", name=re.compile("^Validate")).click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Validation Results", timeout=240_000)  # o resultado, bom ou ruim
        expect(dialog).to_contain_text("Success! Your notebook passes all the tests.", timeout=2_000)
        shot(page, "05_aluna_validate_passou")
        dialog.get_by_role("button").last.click()
        assert ANSWER in path.read_text(encoding="utf-8"), "o notebook salvo deveria ter a resposta digitada"

        # entregar pela Assignment List
        page.locator(".lm-TabBar-tab", has_text="Assignments").click()
        fetched.get_by_role("button", name="Submit", exact=True).click()
        submitted = page.locator("#submitted_assignments_list")
        expect(submitted.get_by_text(ASSIGNMENT).first).to_be_visible()
        shot(page, "06_aluna_tarefa_entregue")
    page.close()
    inbound = list((turma["exchange"] / turma["course_id"] / "inbound").glob(f"{STUDENT}+{ASSIGNMENT}+*"))
    assert len(inbound) == 1 and (inbound[0] / f"{LESSON}.ipynb").exists(), inbound
    assert ANSWER in (inbound[0] / f"{LESSON}.ipynb").read_text(encoding="utf-8")
    turma["submitted"] = True


# --- instrutor -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corrigida(turma):
    """O instrutor coleta da troca e corrige a turma (a mesma correção do `make corrigir`)."""
    assert turma.get("submitted"), "a entrega da aluna (teste anterior) não chegou à troca"
    course = turma["course"]
    course.nbgrader("collect", ASSIGNMENT, *turma["flags"])
    outcome = grading.grade_class(course, progress=False)
    score, max_score = grading.notebook_totals(outcome, STUDENT)[LESSON]
    return course, outcome, score, max_score


def test_formgrader_lista_a_entrega_com_a_nota_automatica(navegador, turma, corrigida):
    from playwright.sync_api import expect

    course, _, score, max_score = corrigida
    assert max_score > 0 and score == max_score, f"todas as respostas estão certas: {score}/{max_score}"
    home = turma["base"] / "instrutor"
    home.mkdir()
    # o token na URL autentica só a página; as chamadas que ela faz à API do formgrader (XHR) levam o
    # token no cabeçalho, como faria o cookie de uma sessão do JupyterHub
    page = navegador.new_page()
    page.set_extra_http_headers({"Authorization": f"token {TOKEN}"})
    with jupyter("server", course.root, jupyter_env(home), turma["base"] / "formgrader.log") as url, \
            failure_shot(page, "formgrader"):
        page.goto(f"{url}/formgrader/manage_submissions/{ASSIGNMENT}?token={TOKEN}")
        row = page.locator("tr", has=page.locator("td.student-id", has_text=re.compile(f"^{STUDENT}$")))
        expect(row).to_have_count(1)
        expect(row.locator("td.score")).to_have_text(f"{score:g} / {max_score:g}")
        expect(row).to_contain_text("graded")
        shot(page, "07_instrutor_formgrader_entregas")
    page.close()


# --- devolutiva ------------------------------------------------------------------------------------

def _br(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def test_devolutiva_abre_em_portugues_com_notas_e_sem_codigo_oculto(navegador, corrigida):
    from playwright.sync_api import expect

    course, outcome, score, max_score = corrigida
    html = course.feedback_dir(STUDENT) / f"{LESSON}.html"
    assert html.exists(), f"a correção deveria gerar {html}"
    page = navegador.new_page()
    page.goto(html.as_uri(), wait_until="domcontentloaded")
    body = page.locator("body")
    expect(body).to_contain_text(f"{LESSON} — nota: {_br(score)} / {_br(max_score)}")
    expect(body).to_contain_text("Resposta do aluno")
    expect(body).to_contain_text("Testes ocultos: o código desta célula não é exibido na devolutiva")
    expect(body).to_contain_text(ANSWER)  # a resposta que a aluna digitou
    cells = outcome.scores[STUDENT][LESSON]
    for gid, (got, points) in cells.items():
        expect(page.locator("#toc li", has_text=f"Testes {gid}")).to_contain_text(
            f"(nota: {_br(got)} / {_br(points)})")
    assert any("," in _br(p) for _, p in cells.values()), "alguma nota com vírgula decimal (1,5)"
    shot(page, "08_devolutiva_topo")
    page.locator(f"a[name='{EXERCISE}_testes']").evaluate("a => a.scrollIntoView()")
    shot(page, "09_devolutiva_testes_ocultos")

    text = page.locator("body").inner_text()
    source = nbt.read(course.source_dir / f"{LESSON}.ipynb")
    hidden = [ln.strip() for c in source.cells for m in nbt.HIDDEN_TESTS.finditer(c.source)
              for ln in m.group(0).splitlines() if len(ln.strip()) > 12 and not ln.strip().startswith("###")]
    reference = [ln.strip() for ln in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION",
                                                 source.cells[[nbt.grade_id(c) for c in source.cells]
                                                              .index(EXERCISE)].source, re.S)[0].splitlines()
                 if ln.strip()]
    # linhas que a própria entrega traz (a aula, as respostas da aluna) não contam
    visible = "\n".join(c.source for c in nbt.read(course.submission_dir(STUDENT) / f"{LESSON}.ipynb").cells)
    hidden = [ln for ln in hidden if ln not in visible]
    assert hidden and reference and ANSWER not in reference
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    for line in hidden + reference:
        assert line not in text, f"a devolutiva mostra código que a aluna não deveria ver: {line!r}"
    page.close()


# --- caminhos de menu citados ------------------------------------------------------------------------

# títulos da barra de menus do JupyterLab como a interface os mostra (o pt-BR 4.5 não traduz os do 4.6);
# um caminho citado que começa por outro nome (Arquivo, Ambiente de execução…) é do Colab ou do Moodle
LAB_MENUS = ("File", "Edit", "View", "Run", "Kernel", "Tabs", "Settings", "Help")
QUOTED_PATH = re.compile(r"(?<![*\w])\*([^*`]{1,60}?(?:→| > )[^*`]{1,120}?)\*(?![*\w])"  # *Run → …*
                         r"|`([^*`]{1,60}?(?:→| > )[^*`]{1,120}?)`")                       # `Run > …`


def quoted_lab_paths() -> dict[tuple[str, ...], str]:
    """Os caminhos de menu do JupyterLab que o README e as aulas citam (em itálico ou como código, com → ou
    >), e onde."""
    texts = {"README.md": (ROOT / "README.md").read_text(encoding="utf-8")}
    for path in sorted((ROOT / "release" / ASSIGNMENT).glob("*.ipynb")):
        texts[path.name] = "\n".join(c.source for c in nbt.read(path).cells if c.cell_type == "markdown")
    found: dict[tuple[str, ...], str] = {}
    for where, text in texts.items():
        for quoted in (a or b for a, b in QUOTED_PATH.findall(text)):
            parts = tuple(" ".join(p.split()) for p in re.split(r"→| > ", quoted))
            if parts[0] in LAB_MENUS:
                found.setdefault(parts, where)
    return found


def test_os_caminhos_de_menu_citados_existem_no_jupyterlab_em_portugues(navegador, tmp_path):
    """Todo caminho de menu do JupyterLab que o README ou uma aula cita é o que a interface em português
    mostra, com um notebook aberto (o caso do aluno)."""
    from playwright.sync_api import expect

    paths = quoted_lab_paths()
    assert paths, "o README cita caminhos de menu do JupyterLab (ex.: *Run → Executar todas as células*)"
    home = tmp_path / "home"
    home.mkdir()
    lab_settings(home)
    root = tmp_path / "aulas"
    root.mkdir()
    shutil.copy(ROOT / "release" / ASSIGNMENT / f"{LESSON}.ipynb", root)
    page = navegador.new_page()
    missing = []
    with jupyter("lab", root, jupyter_env(home), tmp_path / "lab.log") as url, failure_shot(page, "menus"):
        page.goto(f"{url}/lab/tree/{LESSON}.ipynb?token={TOKEN}")
        expect(_cells(page).first).to_be_visible()
        bar = page.locator("#jp-MainMenu")
        for path, where in sorted(paths.items()):
            bar.get_by_role("menuitem", name=re.compile(f"^{re.escape(path[0])}$")).click()
            for depth, label in enumerate(path[1:], start=1):
                menu = page.locator(".lm-Menu:visible").nth(depth - 1)
                item = menu.locator(".lm-Menu-item").filter(
                    has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")))
                if item.count() == 0:
                    shown = [t.strip() for t in menu.locator(".lm-Menu-itemLabel").all_inner_texts() if t.strip()]
                    missing.append(f"{where}: *{' → '.join(path)}* — em “{path[depth - 1]}” há: {shown}")
                    break
                item.first.hover()
                if depth < len(path) - 1:  # um submenu: espera ele abrir ao lado
                    expect(page.locator(".lm-Menu:visible")).to_have_count(depth + 1, timeout=10_000)
            page.keyboard.press("Escape")
            page.keyboard.press("Escape")
    page.close()
    assert not missing, "caminhos de menu citados que a interface em português não mostra:\n" + "\n".join(missing)
