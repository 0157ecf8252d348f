"""Captura de tela do TensorBoard da aula 2.4, para embutir no notebook (comando de mantenedor).

Uso (na raiz do repositório):

    COURSE_DATA_DIR=../shared/data .venv/bin/python bench/tensorboard_screenshot.py [--logdir runs] \
        [--saida /tmp/tensorboard.png] [--anexar]

- Sem `--logdir`, executa o notebook-fonte da aula 2.4 (sem as marcas do nbgrader) numa pasta temporária, só
  até a célula que lista os experimentos (`s8-abrir-codigo`), e usa o `runs/` que ele gravou.
- Sobe `tensorboard --logdir … --port <livre> --host 127.0.0.1` como subprocesso (só local; esta versão
  recusa `--bind_all=false`), abre a aba de escalares no Chromium do Debian (`/usr/bin/chromium`, via
  Playwright; nenhum navegador é baixado), espera os gráficos aparecerem e salva um PNG de 1100 × 650 (menos de 200 KB).
- Com `--anexar`, grava o PNG como anexo (`attachment:tensorboard.png`) da célula markdown `s8` do
  notebook-fonte, no lugar da imagem anterior.
"""
from __future__ import annotations

import argparse
import base64
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / "modulo2" / "04_mlp_implementacao.ipynb"
LAST_CELL = "s8-abrir-codigo"
MARKDOWN_CELL = "s8"
ATTACHMENT = "tensorboard.png"
IMAGE_LINE = (f"![O painel do TensorBoard com as curvas gravadas nesta aula: perda e acurácia por época do treino "
              f"da Seção 5 e a perda por passo dos três otimizadores](attachment:{ATTACHMENT})")


def run_lesson_logging(workdir: Path) -> Path:
    """Executa a aula até LAST_CELL em `workdir`; devolve o runs/ gravado."""
    from nbclient import NotebookClient

    nb = nbformat.read(SOURCE, as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                    if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION",
                                                            "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
        cells.append(cell)
        if cell.get("id") == LAST_CELL:
            break
    nb.cells = [c for c in cells if not c.get("id", "").endswith("_testes")
                and "testes" not in (c.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))]
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return workdir / "runs"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float = 60) -> None:
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"o TensorBoard não respondeu em {url}")


def screenshot(logdir: Path, out: Path, width: int = 1100, height: int = 650) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    tensorboard = shutil.which("tensorboard", path=str(Path(sys.executable).parent)) or "tensorboard"
    proc = subprocess.Popen([tensorboard, "--logdir", str(logdir), "--port", str(port), "--host", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_http(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url + "#timeseries", wait_until="networkidle")
            page.wait_for_selector("canvas, svg.line-chart, .line-chart", timeout=60_000)
            settings = page.get_by_role("button", name="Settings")
            if settings.count() and page.get_by_text("GENERAL").count():
                settings.first.click()                 # fecha o painel de configurações
            tags = page.locator("input[placeholder*='tags']")
            if tags.count():
                tags.first.fill("^perda/")            # só as curvas de perda
                tags.first.press("Escape")
                page.mouse.click(1090, 640)
            time.sleep(4)                              # as curvas terminam de desenhar
            page.screenshot(path=str(out), type="png")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # reduz a paleta para o anexo ficar pequeno
    from PIL import Image
    Image.open(out).convert("RGB").quantize(colors=64).save(out, optimize=True)


def attach(png: Path) -> None:
    nb = nbformat.read(SOURCE, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == MARKDOWN_CELL)
    data = base64.b64encode(png.read_bytes()).decode()
    cell["attachments"] = {ATTACHMENT: {"image/png": data}}
    lines = [ln for ln in cell.source.splitlines() if f"attachment:{ATTACHMENT}" not in ln and ln != "TENSORBOARD_SHOT"]
    at = next(i for i, ln in enumerate(lines) if ln.startswith("### Abrindo o painel"))
    lines[at:at] = [IMAGE_LINE, ""]
    cell.source = "\n".join(lines)
    nbformat.write(nb, SOURCE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", type=Path, help="pasta runs/ já gravada (sem ela, executa a aula)")
    parser.add_argument("--saida", type=Path, default=Path(tempfile.gettempdir()) / "tensorboard.png")
    parser.add_argument("--anexar", action="store_true", help="anexa o PNG à célula s8 do notebook-fonte")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        logdir = args.logdir or run_lesson_logging(Path(tmp))
        screenshot(logdir, args.saida)
    print(f"{args.saida}: {args.saida.stat().st_size / 1024:.0f} KB")
    if args.anexar:
        attach(args.saida)
        print(f"anexado à célula {MARKDOWN_CELL} de {SOURCE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
