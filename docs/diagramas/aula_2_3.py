"""Diagramas da aula 2.3 (perceptron, rede do XOR, grafo computacional com as folhas), anexados ao notebook.

Uso: `cd docs/diagramas && mkdir -p fig && ../../.venv/bin/python aula_2_3.py`; os PNG de fig/ são os anexos
(attachments) das células markdown das seções 1, 3 e 6.1 de source/modulo2/03_perceptron_redes.ipynb. Os números
do grafo são os da célula de código da seção 6.1: mude os dois juntos.
"""
import math
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch, Circle

def v(x, nd=3):
    s = f"{x:.{nd}f}".rstrip("0").rstrip(",") if False else f"{x:.{nd}f}"
    return s.replace(".", ",").replace("-", "−")

def seta(ax, a, b, cor="k", lw=1.5, estilo="-|>", ls="-", rad=0.0):
    ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle=estilo, color=cor, lw=lw, ls=ls,
                shrinkA=0, shrinkB=0, connectionstyle=f"arc3,rad={rad}", mutation_scale=14))

def no(ax, xy, txt, r=0.32, fc="white", ec="k", fs=13):
    ax.add_patch(Circle(xy, r, fc=fc, ec=ec, lw=1.5, zorder=3))
    ax.text(*xy, txt, ha="center", va="center", fontsize=fs, zorder=4)

def caixa(ax, xy, txt, w=1.1, h=0.6, fc="white", ec="k", fs=12):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=fc, ec=ec, lw=1.5, zorder=3))
    ax.text(x, y, txt, ha="center", va="center", fontsize=fs, zorder=4)

# 1. perceptron
fig, ax = plt.subplots(figsize=(7.2, 3.0))
ax.set_xlim(-0.8, 9.3); ax.set_ylim(-0.6, 3.6); ax.set_axis_off()
ys = [3.0, 2.0, 0.3]
for y, nome, peso in zip(ys, ["$x_1$", "$x_2$", "$x_n$"], ["$w_1$", "$w_2$", "$w_n$"]):
    no(ax, (0, y), nome, fc="#dbe9f6")
    seta(ax, (0.32, y), (3.55, 1.6 + (y - 1.6) * 0.12))
    ax.text(1.5, 1.6 + (y - 1.6) * 0.62 + 0.12, peso, fontsize=13, color="tab:red", ha="center")
ax.text(0, 1.15, "⋮", fontsize=18, ha="center", va="center")
no(ax, (4.0, 1.6), "$\\Sigma$", r=0.45, fc="#fdf3d0", fs=16)
ax.text(4.0, 0.75, "$z = \\mathbf{w}\\cdot\\mathbf{x} + b$", ha="center", fontsize=11)
no(ax, (4.0, 3.2), "$1$", r=0.25, fc="#eeeeee", fs=11)
seta(ax, (4.0, 2.95), (4.0, 2.05))
ax.text(4.12, 2.5, "$b$ (viés)", fontsize=12, color="tab:red")
caixa(ax, (6.2, 1.6), "", w=1.1, h=0.9, fc="#e3f1e1")
ax.plot([5.8, 6.2, 6.2, 6.6], [1.35, 1.35, 1.85, 1.85], color="k", lw=2, zorder=5)
ax.text(6.2, 0.85, "degrau", ha="center", fontsize=11)
seta(ax, (4.45, 1.6), (5.6, 1.6))
seta(ax, (6.8, 1.6), (7.9, 1.6))
no(ax, (8.3, 1.6), "$\\hat y$", fc="#dbe9f6")
ax.text(8.3, 0.85, "0 ou 1", ha="center", fontsize=11)
ax.text(0, -0.45, "entradas", ha="center", fontsize=11)
ax.text(1.5, -0.45, "pesos", ha="center", fontsize=11, color="tab:red")
ax.text(4.0, -0.45, "soma + viés", ha="center", fontsize=11)
ax.text(6.2, -0.45, "ativação", ha="center", fontsize=11)
ax.text(8.3, -0.45, "saída", ha="center", fontsize=11)
fig.savefig("fig/perceptron.png", dpi=90, bbox_inches="tight"); plt.close(fig)

# 2. rede XOR
fig, ax = plt.subplots(figsize=(7.2, 3.4))
ax.set_xlim(-0.9, 8.6); ax.set_ylim(-0.3, 4.0); ax.set_axis_off()
X = {"x1": (0, 3.0), "x2": (0, 0.8)}
H = {"h1": (3.8, 3.0), "h2": (3.8, 0.8)}
Y = (7.4, 1.9)
for k, xy in X.items():
    no(ax, xy, f"${k[0]}_{k[1]}$", fc="#dbe9f6")
no(ax, H["h1"], "$h_1$", r=0.4, fc="#fdf3d0")
no(ax, H["h2"], "$h_2$", r=0.4, fc="#fdf3d0")
no(ax, Y, "$\\hat y$", r=0.4, fc="#e3f1e1")
def aresta(a, b, txt, t=0.3, dy=0.12, cor="tab:red"):
    (x0, y0), (x1, y1) = a, b
    seta(ax, (x0 + 0.35, y0), (x1 - 0.42, y1 + (y0 - y1) * 0.05))
    px, py = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
    ax.text(px, py + dy, txt, fontsize=12, color=cor, ha="center", va="bottom",
            bbox=dict(fc="white", ec="none", pad=1.0), zorder=5)
aresta(X["x1"], H["h1"], "$1$", t=0.5, dy=-0.17)
aresta(X["x2"], H["h1"], "$1$", t=0.28, dy=-0.17)
aresta(X["x1"], H["h2"], "$-1$", t=0.28, dy=-0.17)
aresta(X["x2"], H["h2"], "$-1$", t=0.5, dy=-0.17)
aresta(H["h1"], Y, "$1$", t=0.5, dy=-0.17)
aresta(H["h2"], Y, "$1$", t=0.5, dy=-0.17)
ax.text(3.8, 3.55, "OR · viés $-0{,}5$", ha="center", fontsize=11)
ax.text(3.8, 0.05, "NAND · viés $1{,}5$", ha="center", fontsize=11)
ax.text(7.4, 2.45, "AND · viés $-1{,}5$", ha="center", fontsize=11)
ax.text(0, -0.2, "entrada", ha="center", fontsize=11)
ax.text(3.8, -0.5, "camada oculta (degrau)", ha="center", fontsize=11)
ax.text(7.4, 1.2, "saída (degrau)", ha="center", fontsize=11)
fig.savefig("fig/rede_xor.png", dpi=90, bbox_inches="tight"); plt.close(fig)

# 3. grafo computacional com folhas
def m(x, nd=3):  # número com vírgula dentro de mathtext
    return v(x, nd).replace(",", "{,}")
x, w, b = 2.0, -1.0, 0.5
z = w * x + b; s = 1 / (1 + math.exp(-z)); L = s ** 2
dL_ds = 2 * s; dL_dz = dL_ds * s * (1 - s); gw, gb = dL_dz * x, dL_dz
fig, ax = plt.subplots(figsize=(11.0, 4.0))
ax.set_xlim(-2.4, 11.8); ax.set_ylim(-1.7, 3.5); ax.set_axis_off()
folha, cor = "#dbe9f6", "tab:red"
caixa(ax, (0, 2.6), f"$x = {m(x,0)}$", w=1.3, fc="#eeeeee")
ax.text(-0.8, 2.6, "dado\nsem gradiente", ha="right", va="center", fontsize=8.5, color="0.35")
ax.text(0, 3.1, "", ha="center", fontsize=9, color="0.35")
caixa(ax, (0, 1.2), f"$w = {m(w,0)}$", w=1.3, fc=folha)
caixa(ax, (0, -0.5), f"$b = {m(b,1)}$", w=1.3, fc=folha)
for yy in (1.2, -0.5):
    ax.text(-0.8, yy, "folha\nrequires_grad=True", ha="right", va="center", fontsize=8.5, color="tab:blue")
P = {"mul": (3.0, 1.9), "add": (5.6, 1.0), "sig": (8.1, 1.0), "pow": (10.6, 1.0)}
val = {"mul": f"$wx = {m(w*x,0)}$", "add": f"$z = {m(z,1)}$", "sig": f"$\\sigma(z) = {m(s)}$", "pow": f"$L = \\sigma^2 = {m(L)}$"}
nome = {"mul": "MulBackward0", "add": "AddBackward0", "sig": "SigmoidBackward0", "pow": "PowBackward0"}
grad = {"mul": f"$\\partial L/\\partial (wx) = {m(dL_dz)}$", "add": f"$\\partial L/\\partial z = {m(dL_dz)}$",
        "sig": f"$\\partial L/\\partial \\sigma = {m(dL_ds)}$", "pow": "$\\partial L/\\partial L = 1$"}
for k, (cx, cy) in P.items():
    caixa(ax, (cx, cy), nome[k], w=2.0, h=0.5, fc="#fdf3d0", fs=8.5)
    ax.text(cx, cy + 0.38, val[k], ha="center", fontsize=11)
    ax.text(cx, cy + 0.72 if k == "mul" else cy - 0.62, grad[k], ha="center", fontsize=10, color=cor)
def par(a, b, d=(0.0, -0.17)):
    seta(ax, a, b)
    seta(ax, (b[0] + d[0], b[1] + d[1]), (a[0] + d[0], a[1] + d[1]), cor=cor, ls="--", lw=1.2)
seta(ax, (0.65, 2.45), (2.0, 2.05))
par((0.65, 1.35), (2.0, 1.8))
par((3.9, 1.7), (4.6, 1.2))
par((0.65, -0.35), (4.6, 0.85))
par((6.6, 1.08), (7.1, 1.08))
par((9.1, 1.08), (9.6, 1.08))
ax.text(0, 0.55, f"w.grad = {v(gw)}", ha="center", fontsize=11, color=cor, fontweight="bold")
ax.text(0, -1.15, f"b.grad = {v(gb)}", ha="center", fontsize=11, color=cor, fontweight="bold")
ax.text(5.3, 3.25, "forward (setas pretas): cada resultado guarda o seu grad_fn", ha="center", fontsize=10)
ax.text(4.8, -1.6, "L.backward() (setas vermelhas): a regra da cadeia volta pelo grafo e soma o gradiente no .grad das folhas",
        ha="center", fontsize=10, color=cor)
fig.savefig("fig/grafo.png", dpi=90, bbox_inches="tight"); plt.close(fig)
print(gw, gb)
