#!/usr/bin/env python
"""Benchmark do treino no MNIST: a receita da aula 2.4 × o pipeline canônico dos tutoriais.

Não é um teste: imprime números. Numa única execução treina

  (a) a RECEITA do notebook `source/modulo2/04_mlp_implementacao.ipynb`, executando o próprio código
      das células marcadas com a tag `receita` (setup, carga do MNIST, `MNISTDataset`,
      `make_batch_loader`, `MLP`, `train_one_epoch`, `evaluate` e a célula do Exercício 6), sem as
      linhas `### BEGIN/END SOLUTION` — ou seja, exatamente o que o aluno vê na solução;
  (b) o pipeline CANÔNICO: `MNIST(transform=ToTensor() + Normalize)` → `DataLoader(batch_size=64,
      shuffle=True)`, o mesmo `MLP([784, 256, 10], dropout=0.1)` e `Adam(lr=1e-3)` constante;

e imprime, para cada um, os segundos de treino até a acurácia no teste chegar a 97,5 % (a avaliação
ao fim de cada época fica fora do cronômetro), a acurácia final e a razão entre os tempos.

Uso (na raiz do repositório):

    COURSE_DATA_DIR=/caminho/dos/dados .venv/bin/python bench/mnist_benchmark.py
    make benchmark COURSE_DATA_DIR=/caminho/dos/dados

Opções: --epocas-canonico N (padrão 5), --alvo 0.975, --workers N (num_workers do pipeline canônico,
padrão 0, o padrão do DataLoader), --threads N (torch.set_num_threads; padrão: o do PyTorch).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import nbformat  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from course.notebooks import strip_solution_markers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "source" / "modulo2" / "04_mlp_implementacao.ipynb"
TAG = "receita"
FINAL_CELL = "ex6_mnist"                     # grade_id da célula que treina o modelo final
MEAN, STD = 0.1307, 0.3081


def recipe_cells() -> list[tuple[str, str]]:
    """(nome, código) das células com a tag `receita`, em ordem, sem os marcadores de solução."""
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and TAG in cell.metadata.get("tags", []):
            name = cell.metadata.get("nbgrader", {}).get("grade_id") or cell.get("id")
            cells.append((name, strip_solution_markers(cell.source)))
    names = [n for n, _ in cells]
    if not cells or names[-1] != FINAL_CELL:
        sys.exit(f"{NOTEBOOK}: esperava células com a tag {TAG!r} terminando em {FINAL_CELL!r}; achei {names}")
    return cells


def test_tensors(data_dir: str) -> tuple[torch.Tensor, torch.Tensor]:
    """O teste do MNIST normalizado aqui mesmo (como o teste oculto do Exercício 6)."""
    mnist = torchvision.datasets.MNIST(root=data_dir, train=False, download=True)
    return ((mnist.data.float() / 255 - MEAN) / STD).unsqueeze(1), mnist.targets.long()


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 2000].to(device)).argmax(dim=1).cpu() for i in range(0, len(x), 2000)])
    model.train(was_training)
    return (pred == y).float().mean().item()


def seconds_to_target(log: list[tuple[float, float]], prep: float, target: float) -> tuple[float | None, int | None]:
    """Primeira época com acurácia >= alvo: (segundos de preparo + treino até ela, número da época)."""
    elapsed = prep
    for epoch, (seconds, acc) in enumerate(log, start=1):
        elapsed += seconds
        if acc >= target:
            return elapsed, epoch
    return None, None


def run_recipe(x_test, y_test):
    """Executa as células `receita` do notebook, cronometrando cada chamada de train_one_epoch."""
    ns: dict = {"__name__": "__receita__"}
    cells = recipe_cells()
    with contextlib.redirect_stdout(io.StringIO()):
        for name, source in cells[:-1]:
            exec(compile(source, f"<receita:{name}>", "exec"), ns)
    original = ns["train_one_epoch"]
    log: list[tuple[float, float]] = []
    first_call: list[float] = []

    def timed_train_one_epoch(model, *args, **kwargs):
        start = time.perf_counter()
        first_call.append(start)
        loss = original(model, *args, **kwargs)
        seconds = time.perf_counter() - start
        acc = accuracy(model, x_test, y_test)          # fora do cronômetro
        log.append((seconds, acc))
        print(f"  receita   época {len(log)}: {seconds:5.2f} s de treino · teste {acc:.2%}", file=out, flush=True)
        return loss

    ns["train_one_epoch"] = timed_train_one_epoch
    out = sys.stdout                                   # a saída da célula é descartada; a nossa, não
    name, source = cells[-1]
    cell_start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, f"<receita:{name}>", "exec"), ns)
    prep = first_call[0] - cell_start if first_call else 0.0
    final = accuracy(ns["model"], x_test, y_test)
    return {"log": log, "prep": prep, "final": final, "reported": ns.get("test_accuracy"),
            "MLP": ns["MLP"], "params": sum(p.numel() for p in ns["model"].parameters())}


def run_canonical(MLP, data_dir, epochs, workers, x_test, y_test, seed=0):
    """O pipeline dos tutoriais: transform por imagem, DataLoader(batch_size=64), Adam(lr=1e-3)."""
    start = time.perf_counter()
    transform = torchvision.transforms.Compose([
        torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize((MEAN,), (STD,)),
    ])
    train = torchvision.datasets.MNIST(root=data_dir, train=True, download=True, transform=transform)
    loader = DataLoader(train, batch_size=64, shuffle=True, num_workers=workers,
                        generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = MLP([784, 256, 10], dropout=0.1).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    prep = time.perf_counter() - start
    log = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        acc = accuracy(model, x_test, y_test)          # fora do cronômetro
        log.append((seconds, acc))
        print(f"  canônico  época {epoch}: {seconds:5.2f} s de treino · teste {acc:.2%}", flush=True)
    return {"log": log, "prep": prep, "final": log[-1][1] if log else float("nan")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epocas-canonico", type=int, default=5, help="épocas do pipeline canônico (padrão 5)")
    parser.add_argument("--alvo", type=float, default=0.975, help="acurácia-alvo no teste (padrão 0.975)")
    parser.add_argument("--workers", type=int, default=0, help="num_workers do pipeline canônico (padrão 0)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (padrão: o do PyTorch)")
    args = parser.parse_args(argv)

    data_dir = os.environ.get("COURSE_DATA_DIR", "data")
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__} · {torch.get_num_threads()} threads · {os.cpu_count()} CPUs · "
          f"carga média (1 min) {load:.2f} · dados em {data_dir}")
    print(f"notebook: {NOTEBOOK.relative_to(ROOT)} (células com a tag {TAG!r})\n")
    x_test, y_test = test_tensors(data_dir)

    print("(a) receita do notebook")
    recipe = run_recipe(x_test, y_test)
    print(f"\n(b) pipeline canônico: ToTensor + Normalize, DataLoader(batch_size=64, num_workers={args.workers}), "
          "Adam(lr=1e-3)")
    canonical = run_canonical(recipe["MLP"], data_dir, args.epocas_canonico, args.workers, x_test, y_test)

    rows = []
    for name, res in (("(a) receita", recipe), ("(b) canônico", canonical)):
        to_target, epoch = seconds_to_target(res["log"], res["prep"], args.alvo)
        total = res["prep"] + sum(s for s, _ in res["log"])
        rows.append((name, to_target, epoch, len(res["log"]), total, res["final"]))

    print(f"\nResultado (alvo: {args.alvo:.1%} no teste; tempos de treino + preparo dos dados, sem as avaliações)")
    print(f"{'pipeline':14s} {'s até o alvo':>13s} {'época':>6s} {'épocas':>7s} {'s de treino':>12s} "
          f"{'acurácia final':>15s}")
    for name, to_target, epoch, epochs, total, final in rows:
        target_txt = f"{to_target:13.1f}" if to_target is not None else f"{'não chegou':>13s}"
        epoch_txt = f"{epoch:6d}" if epoch is not None else f"{'—':>6s}"
        print(f"{name:14s} {target_txt} {epoch_txt} {epochs:7d} {total:12.1f} {final:15.2%}")
    (_, t_a, *_), (_, t_b, *_) = rows
    if t_a and t_b:
        print(f"\nrazão (canônico / receita) no tempo até {args.alvo:.1%}: {t_b / t_a:.1f}×")
    else:
        print("\nrazão indisponível: um dos pipelines não chegou ao alvo (aumente --epocas-canonico).")
    if recipe["reported"] is not None:
        print(f"test_accuracy informado pela célula do notebook: {float(recipe['reported']):.2%} "
              f"(medido aqui: {recipe['final']:.2%}) · parâmetros do modelo: {recipe['params']:,}".replace(",", "."))
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if max(load, load_end) > (os.cpu_count() or 1):
        print(f"aviso: a máquina estava ocupada (carga {max(load, load_end):.1f} para {os.cpu_count()} CPUs); "
              "os tempos podem estar inflados.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
