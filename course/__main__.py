"""Ferramentas do curso: `python -m course <comando>` (veja `python -m course --help`)."""
from __future__ import annotations

import argparse
import sys

from .settings import NOTEBOOK_TIME_LIMIT, STUDENT_TIME_LIMIT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    # Portuguese names, as the rest of what instructors and maintainers type; the earlier English ones
    # stay as aliases (check, variants, mutants, badges; --jobs, --keep)
    p = sub.add_parser("verificar", aliases=["check"],
                       help="verifica notebooks-fonte: lint, geração e correção da solução e da versão vazia")
    p.set_defaults(command="verificar")
    p.add_argument("notebooks", nargs="+")
    p.add_argument("--manter", "--keep", dest="keep", action="store_true", help="mantém a pasta temporária do curso")

    p = sub.add_parser("variantes", aliases=["variants"],
                       help="testa os testes: injeta variantes erradas e corretas e corrige com o nbgrader")
    p.set_defaults(command="variantes")
    p.add_argument("notebooks", nargs="*", help="padrão: todos")
    p.add_argument("--processos", "--jobs", dest="jobs", type=int, default=1, help="correções em paralelo")
    p.add_argument("--rapido", action="store_true",
                   help="deixa de fora os exercícios lentos declarados no catálogo (o treino no MNIST)")
    p.add_argument("--comparar-demonstracoes", action="store_true",
                   help="corrige o catálogo duas vezes, pulando e executando as células de demonstração "
                        "marcadas (pular-na-correcao), e confere que nenhuma nota muda")
    p.add_argument("--rodadas", type=int, default=None, metavar="K",
                   help="só as K primeiras submissões planejadas de cada notebook")

    p = sub.add_parser("mutantes", aliases=["mutants"],
                       help="testa os testes com mutantes das soluções de referência (meta: ≥ 95 %% mortos)")
    p.set_defaults(command="mutantes")
    p.add_argument("notebooks", nargs="*", help="padrão: todos")
    p.add_argument("--triagem", action="store_true",
                   help="triagem rápida: um processo IPython por notebook, sem nbgrader (para quem escreve testes)")
    p.add_argument("--processos", "--jobs", dest="jobs", type=int, default=1,
                   help="notebooks (triagem) ou correções (nbgrader) em paralelo")
    p.add_argument("--amostra", type=int, default=1, metavar="K", help="só 1 a cada K mutantes de cada exercício")
    p.add_argument("--rapido", action="store_true", help="sem os mutantes do treino no MNIST")

    sub.add_parser("demo", help="turma de demonstração (solucao, vazio e o que houver em submitted/)")

    p = sub.add_parser("corrigir", help="corrige a turma: zip do AVA (opcional) → normaliza → corrige → devolutiva → notas")
    p.add_argument("zip", nargs="?", help="zip baixado do Moodle ('Baixar todas as submissões')")
    p.add_argument("--alunos", nargs="*", help="corrige só estes alunos")
    p.add_argument("--sem-devolutiva", action="store_true", help="não gera o HTML de devolutiva")
    p.add_argument("--limite-aluno", type=float, default=STUDENT_TIME_LIMIT,
                   help=f"segundos por aluno (padrão {STUDENT_TIME_LIMIT})")
    p.add_argument("--limite-notebook", type=float, default=NOTEBOOK_TIME_LIMIT,
                   help=f"segundos por notebook na nova tentativa (padrão {NOTEBOOK_TIME_LIMIT})")
    p.add_argument("--curso", default=None, help="pasta do curso do nbgrader (padrão: este repositório)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processos de correção nesta máquina (padrão: um por núcleo, quantos couberem na memória; "
                        "1 = um aluno por vez; variável CURSO_WORKERS)")
    p.add_argument("--cluster", default=None, metavar="ENDERECO",
                   help="agendador do Dask que distribui a correção entre máquinas, ex.: tcp://10.0.0.5:8786 "
                        "(variável CURSO_DASK_CLUSTER)")
    p.add_argument("--forcar", action="store_true",
                   help="corrige de novo também os alunos cujas entregas e versão do curso não mudaram "
                        "(padrão: são reaproveitados de correcao_registro.json)")

    p = sub.add_parser("selos", aliases=["badges"],
                       help="reescreve os selos 'Abrir no Colab' e os links do JupyterHub a partir de course/settings.py")
    p.set_defaults(command="selos")

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "verificar":
        from .check import check
        return 0 if check(args.notebooks, keep=args.keep) else 1
    if args.command in ("demo", "corrigir"):
        from . import grading, sandbox
        from .grading import engine
        try:
            if args.command == "demo":
                from .demo import run_demo
                run_demo()
            else:
                from pathlib import Path

                from .settings import ROOT
                from .workspace import Course
                course = Course(Path(args.curso).resolve() if args.curso else ROOT)
                outcome = grading.grade_class(course, students=args.alunos, zip_path=args.zip,
                                              feedback=not args.sem_devolutiva,
                                              student_limit=args.limite_aluno, notebook_limit=args.limite_notebook,
                                              workers=args.workers, cluster=args.cluster, force=args.forcar)
                print(grading.summary_table(course, outcome))
        except sandbox.SandboxUnavailable as exc:
            print(f"ERRO: {exc}", file=sys.stderr)
            return 2
        except (engine.ClusterUnavailable, ValueError) as exc:
            print(f"ERRO: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "selos":
        from .badges import update_badges
        changed = update_badges()
        print("\n".join(f"atualizado: {p}" for p in changed) or "selos já atualizados")
        return 0
    if args.command == "variantes":
        from . import variants
        if args.comparar_demonstracoes:
            comparison = variants.compare_demo_skipping(args.notebooks or None, jobs=args.jobs, quick=args.rapido,
                                                        rounds=args.rodadas)
            print(comparison.table())
            return 0 if comparison.ok else 1
        report = variants.run(args.notebooks or None, jobs=args.jobs, quick=args.rapido, rounds=args.rodadas)
        print(variants.table(report))
        return 0 if report.ok else 1
    if args.command == "mutantes":
        from . import mutants
        if args.triagem:
            report = mutants.screen(args.notebooks or None, jobs=args.jobs, every=args.amostra, quick=args.rapido)
        else:
            report = mutants.run(args.notebooks or None, jobs=args.jobs, quick=args.rapido, every=args.amostra)
        print(mutants.table(report))
        return 0 if report.ok else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
