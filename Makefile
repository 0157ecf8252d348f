# Módulo 2 — Fundamentos de Redes Neurais e PyTorch: comandos do curso.
# Uso: make demo | make test-rapido | make test | make release | make corrigir ZIP=... | make variantes | make benchmark

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
export COURSE_DATA_DIR ?= data
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: captura-tensorboard venv release selos badges demo test test-rapido test-completo variantes variantes-rapido variantes-demonstracoes mutantes mutantes-triagem benchmark tempos corrigir limpar

$(VENV)/.instalado: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e . --no-deps
	touch $@

venv: $(VENV)/.instalado

## Gera release/ (versão do aluno) a partir de source/.
release: venv
	$(PY) -m nbgrader generate_assignment modulo2 --force

## Reescreve os selos "Abrir no Colab" a partir de course/settings.py (`make badges` também funciona).
selos badges: venv
	$(PY) -m course selos

## Turma de demonstração: solucao + vazio + o que houver em submitted/; corrige, devolutiva e notas.
demo: venv
	$(PY) -m course demo

## Testes do repositório (o CI roda este comando). Dois processos do pytest, um arquivo de teste por vez.
PYTEST := $(PY) -m pytest -n 2 --dist loadfile
test: venv
	$(PYTEST)

## Testes rápidos (< 1 min, sem kernels nem nbgrader): tests/unit + ruff no código e, via nbqa, nas aulas.
test-rapido: venv
	@inicio=$$(date +%s%N); status=0; \
	$(PY) -m pytest tests/unit -q || status=1; \
	$(VENV)/bin/ruff check course tests bench || status=1; \
	$(VENV)/bin/nbqa ruff source/modulo2 || status=1; \
	ms=$$(( ($$(date +%s%N) - inicio) / 1000000 )); \
	echo "test-rapido: $$((ms / 1000)).$$(printf %03d $$((ms % 1000))) s"; exit $$status

## Todos os testes, inclusive as variantes do treino no MNIST (~8 min a mais).
test-completo: venv
	$(PYTEST) -m "mnist or not mnist"

## Testa os testes: variantes erradas e corretas de cada exercício (todas; ~15 min).
variantes: venv
	$(PY) -m course variantes --processos 2

## O mesmo sem as variantes do treino no MNIST (o que o `make test` confere; ~8 min).
variantes-rapido: venv
	$(PY) -m course variantes --processos 2 --rapido

## Prova que pular as células de demonstração na correção não muda nenhuma nota: corrige o catálogo
## inteiro pulando e executando as demonstrações e compara célula a célula (~35 min).
variantes-demonstracoes: venv
	$(PY) -m course variantes --comparar-demonstracoes --processos 2

## Testa os testes com mutantes das soluções, corrigidos pelo nbgrader (meta: ≥ 95 % mortos por exercício).
mutantes: venv
	$(PY) -m course mutantes --processos 2

## Triagem rápida dos mutantes (um processo IPython por notebook, sem nbgrader; o `make test` roda esta).
mutantes-triagem: venv
	$(PY) -m course mutantes --triagem --processos 2

## Benchmark do treino no MNIST (receita do notebook x pipeline canônico).
benchmark: venv
	$(PY) bench/mnist_benchmark.py

## Tempo de cada aula de cima a baixo, com as células mais lentas.
tempos: venv
	$(PY) bench/tempos_notebooks.py

## Captura do painel do TensorBoard da aula 2.4, anexada ao notebook-fonte (depois: make release).
captura-tensorboard: venv
	$(PY) bench/tensorboard_screenshot.py --anexar

## Corrige uma turma a partir do zip baixado do AVA: make corrigir ZIP=caminho/do/arquivo.zip
corrigir: venv
	$(PY) -m course corrigir $(ZIP)

limpar:
	rm -rf submitted autograded feedback downloaded gradebook.db grades.csv relatorio_correcao.* correcao_registro.json moodle
