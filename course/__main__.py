"""Ferramentas do curso: `python -m course <comando>` (veja `python -m course --help`)."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="verifica notebooks-fonte: lint, geração e correção da solução e da versão vazia")
    p.add_argument("notebooks", nargs="+")
    p.add_argument("--keep", action="store_true", help="mantém a pasta temporária do curso")

    p = sub.add_parser("variants", help="testa os testes: injeta variantes erradas e corretas e corrige com o nbgrader")
    p.add_argument("notebooks", nargs="*", help="padrão: todos")
    p.add_argument("--jobs", type=int, default=1, help="correções em paralelo")

    args = parser.parse_args(argv)
    if args.command == "check":
        from .check import check
        return 0 if check(args.notebooks, keep=args.keep) else 1
    if args.command == "variants":
        from . import variants
        report = variants.run(args.notebooks or None, jobs=args.jobs)
        print(variants.table(report))
        return 0 if report.ok else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
