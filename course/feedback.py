"""Feedback that shows how each hidden test went, never its code.

nbgrader's feedback HTML prints every test cell as it was executed, hidden tests included. This
preprocessor (listed in `GenerateFeedback.preprocessors`) replaces the source of every autograded
test cell with a note and cuts error tracebacks (which quote the failing lines) down to the
exception's name and message, which the tests write in Portuguese for the student.
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from . import notebooks as nbt

NOTE = ("# Testes ocultos: o código desta célula não é exibido na devolutiva.\n"
        "# Abaixo, o resultado da execução (mensagens de erro, se houver).")


class HideHiddenTests(NbGraderPreprocessor):

    def preprocess_cell(self, cell, resources, cell_index):
        if nbt.is_autograded_test(cell):
            cell.source = NOTE
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    out.traceback = [f"{out.ename}: {out.evalue}"]
        return cell, resources
