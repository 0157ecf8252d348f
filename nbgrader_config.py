"""Configuração do nbgrader para o Módulo 2 — Fundamentos de Redes Neurais e PyTorch.

Lida por todo comando `nbgrader ...` executado na raiz deste repositório. A geração da versão do
aluno (stubs em português, células bloqueadas) depende só deste arquivo: ele funciona mesmo copiado
sem a pasta `course/`; esta só é necessária para corrigir (sandbox, devolutiva, coleta do AVA), e o
nbgrader a importa como pacote instalado (`make venv` instala `course` no .venv, veja pyproject.toml).
"""
import os
import sys
import warnings

# O nbgrader chama `alembic` pelo PATH: funciona também com `.venv/bin/nbgrader` sem ativar o venv.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
# O nbgrader 0.9.6 dispara avisos internos do SQLAlchemy 2 (SAWarning, autoflush) a cada atualização
# do gradebook: não dizem nada ao instrutor e escondem as mensagens do próprio nbgrader.
try:
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
except ImportError:
    pass

c = get_config()  # noqa: F821  (fornecido pelo nbgrader)

# --- Curso -------------------------------------------------------------------------------------
c.CourseDirectory.course_id = "fundamentos-redes-neurais-pytorch"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# Arquivos que nunca fazem parte de uma tarefa (gerados pelas aulas ou pelo sistema).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store",
    "data", "runs", "checkpoints", "*.pt", "*.pth",
]
# Uma submissão nunca traz arquivos grandes: 5 MB por arquivo, 50 MB por pasta.
c.CourseDirectory.max_file_size = 5 * 1024
c.CourseDirectory.max_dir_size = 50 * 1024

# --- Versão do aluno: stubs em português ------------------------------------------------------
c.ClearSolutions.code_stub = {"python": "# SEU CÓDIGO AQUI\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "SUA RESPOSTA AQUI"
c.ClearSolutions.enforce_metadata = True
# Células de teste ficam somente leitura e não podem ser apagadas na versão do aluno.
c.LockCells.lock_grade_cells = True
c.LockCells.lock_readonly_cells = True
c.LockCells.lock_solution_cells = True

# --- Correção automática ----------------------------------------------------------------------
# Tempo máximo por célula (s). A célula mais lenta (treino do MLP no MNIST, aula 4) leva ~30 s
# em 2 núcleos de CPU; o limite deixa folga para máquinas mais lentas e turmas em paralelo.
c.Execute.timeout = 240
c.Execute.interrupt_on_timeout = True
# Depois da última célula o kernel é encerrado na hora: o desligamento "gracioso" esperava ~1 s por
# notebook (com o torch carregado) sem nada a salvar — 4 s por aluno.
c.Execute.shutdown_kernel = "immediate"
# O nome do erro é course.execute.TIMEOUT (o relatório o reconhece por ele).
c.Execute.error_on_timeout = {
    "ename": "TempoEsgotado",
    "evalue": "a célula passou do tempo limite de execução e foi interrompida",
    "traceback": ["TempoEsgotado: a célula passou do tempo limite de execução e foi interrompida"],
}
# Qualquer saída em stderr numa célula de teste zera a nota (regra do nbgrader). Avisos
# inofensivos (UserWarning, DeprecationWarning...) e barras de progresso do tqdm não devem
# zerar a nota de uma resposta correta: são removidos antes da nota ser calculada.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?i)warning|\d+%\|.*\|"
# Execução protegida: cada kernel roda isolado (bubblewrap: sem rede, sem acesso ao curso, com
# limites de memória, CPU e processos); kernel que morre ou trava não derruba a correção.
c.Autograde.autograde_preprocessors = [
    "course.execute.ProtectedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Limites de cada kernel no sandbox (course.sandbox.SandboxProvisioner). Numa execução, cada um
# pode ser trocado pela variável de ambiente ao lado (veja o README, "Segurança da correção").
c.SandboxProvisioner.memory_mb = 6144          # CURSO_SANDBOX_MEMORIA_MB (cgroup)
c.SandboxProvisioner.address_space_mb = 16384  # CURSO_SANDBOX_ENDERECOS_MB (prlimit --as)
c.SandboxProvisioner.cpu_seconds = 1800        # CURSO_SANDBOX_CPU_S
c.SandboxProvisioner.processes = 256           # CURSO_SANDBOX_PROCESSOS
c.SandboxProvisioner.file_size_mb = 256        # CURSO_SANDBOX_ARQUIVO_MB
c.SandboxProvisioner.open_files = 1024         # CURSO_SANDBOX_ARQUIVOS_ABERTOS
# Alunos conseguem apagar células bloqueadas (ex.: no Colab): elas são restauradas.
c.OverwriteCells.add_missing_cells = True
c.OverwriteCells.missing_cell_notification = (
    "Esta célula (id: {cell_id}) estava faltando na entrega e foi restaurada pelo nbgrader.\n\n"
)
# Saídas enormes não entram no notebook corrigido.
c.LimitOutput.max_lines = 500
c.LimitOutput.max_traceback = 60

# --- Devolutiva (feedback) --------------------------------------------------------------------
# O HTML de devolutiva mostra o resultado dos testes ocultos, mas nunca o código deles.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "course.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.HTMLExporter.template_name = "devolutiva"  # course/templates/devolutiva: textos em português
c.HTMLExporter.extra_template_basedirs = [
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "course", "templates"),
]

# --- Coleta de entregas baixadas do AVA (Moodle) ----------------------------------------------
# Moodle, "Baixar todas as submissões": <Nome Completo>_<id>_assignsubmission_file_/<arquivo>.
# O zip vai em downloaded/modulo2/archive/; o id do participante vira o id do aluno (README).
c.ZipCollectApp.collector_plugin = "course.lms.MoodleCollector"
