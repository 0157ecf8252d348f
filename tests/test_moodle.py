"""Grades and feedback back into Moodle, and a Moodle download with unsafe or unreadable members.

The checks below read our files the way Moodle's importers do (ported from Moodle's source, see the
helpers `moodle_worksheet_import` and `moodle_zip_import`), with the header rows Moodle writes:
mod/assign/gradingtable.php (columns of the downloaded worksheet), mod/assign/feedback/offline/
importgradeslib.php (how the worksheet is read), mod/assign/feedback/file/importziplib.php (how the
feedback zip is read), and the language strings of mod/assign/lang/{en,pt_br}/assign.php.
"""
from __future__ import annotations

import csv
import io
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

import submissions as S
from conftest import MINI_LIMITS, mini_course, place
from course import grading, lms, moodle

# What Moodle itself writes (the language strings in its source and language packs)
STRINGS = {
    "en": {"recordid": "Identifier", "grade": "Grade", "lastmodifiedgrade": "Last modified (grade)",
           "hiddenuser": "Participant ", "feedbackcomments": "Feedback comments", "decsep": "."},
    "pt_br": {"recordid": "Identificador", "grade": "Nota", "lastmodifiedgrade": "Última modificação (nota)",
              "hiddenuser": "Participante", "feedbackcomments": "Comentários de feedback", "decsep": ","},
}
# The header row of the worksheet Moodle downloads (Baixar planilha de notas), pt_br interface
DOWNLOADED_HEADER_PT = ["Identificador", "Nome completo", "Status", "Nota", "Nota máxima", "Nota pode ser alterada",
                        "Última modificação (envio)", "Última modificação (nota)", "Comentários de feedback"]
DOWNLOADED_HEADER_EN = ["Identifier", "Full name", "Status", "Grade", "Maximum grade", "Grade can be changed",
                        "Last modified (submission)", "Last modified (grade)", "Feedback comments"]


def moodle_worksheet_import(text: str, language: str, participants: set[int]) -> dict[int, dict]:
    """assignfeedback_offline_grade_importer::init() and next(), in Python."""
    s = STRINGS[language]
    rows = list(csv.reader(io.StringIO(text)))
    columns = rows[0]
    assert len(set(columns)) == len(columns) and all(columns), "Moodle rejects empty or repeated column names"
    index = {key: columns.index(s[key]) if s[key] in columns else -1
             for key in ("recordid", "grade", "lastmodifiedgrade", "feedbackcomments")}
    assert min(index["recordid"], index["grade"], index["lastmodifiedgrade"]) >= 0, \
        f"Moodle ({language}) says invalidgradeimport: {columns}"
    # `if (!empty($details['index']))`: a feedback column at index 0 would be ignored
    assert index["feedbackcomments"] > 0
    found: dict[int, dict] = {}
    for record in rows[1:]:
        # "Strip the integer from the end of the participant string"
        raw = record[index["recordid"]][len(s["hiddenuser"].encode()):]
        assert raw.isdigit(), f"{record[index['recordid']]!r} -> {raw!r}"
        if int(raw) not in participants:
            continue
        grade = record[index["grade"]].strip()
        value = None
        if grade:  # unformat_float(): the language's decimal separator becomes '.', then a float
            value = float(grade.replace(" ", "").replace(s["decsep"], "."))
        modified = datetime.fromisoformat(record[index["lastmodifiedgrade"]])  # strtotime() must read it
        assert modified.tzinfo is not None
        found[int(raw)] = {"grade": value, "comment": record[index["feedbackcomments"]]}
    return found


def moodle_zip_import(data: bytes, participants: set[int]) -> dict[int, list[str]]:
    """assignfeedback_file_zip_importer::is_valid_filename_for_import(), in Python."""
    plugins = {("assignsubmission", "file"), ("assignsubmission", "onlinetext"), ("assignfeedback", "file")}
    out: dict[int, list[str]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.is_dir() or Path(info.filename).name.startswith((".", "~")):
                continue
            parts = ("/import/" + info.filename).split("/")
            while parts:
                part = parts.pop(0)
                pieces = part.split("_", 4)  # PHP explode('_', $pathpart, 5)
                if len(pieces) < 4 or not pieces[1].isdigit() or int(pieces[1]) not in participants:
                    continue
                if (pieces[2], pieces[3]) not in plugins:
                    continue
                rest = pieces[4] if len(pieces) == 5 else ""
                out.setdefault(int(pieces[1]), []).append("/".join([rest, *parts]))
                break
    return out


# --- unit checks (no grading) -------------------------------------------------------------------

def test_identifiers_are_read_back_as_the_participant_id_in_both_languages():
    for written in ("pt_br", "en"):
        for reading in ("pt_br", "en"):
            idstr = moodle.identifier("4711", written)
            assert idstr[len(STRINGS[reading]["hiddenuser"]):] == "4711", (written, reading, idstr)
    assert moodle.identifier("101", "pt_br") == "Participante101"  # gradingtable.php col_recordid
    assert moodle.identifier("101", "en") == "Participant 101"


def test_worksheet_headers_are_moodles_own_columns():
    for language, downloaded in (("pt_br", DOWNLOADED_HEADER_PT), ("en", DOWNLOADED_HEADER_EN)):
        ours = [moodle.COLUMNS[language][c] for c in moodle.ORDER]
        assert set(ours) <= set(downloaded), (language, set(ours) - set(downloaded))
        # same relative order as Moodle's download
        assert ours == [c for c in downloaded if c in ours]


def test_a_worksheet_as_moodle_downloads_it_is_read_by_the_ported_importer():
    """The port itself must accept Moodle's own download (or it would prove nothing about ours)."""
    text = ",".join(DOWNLOADED_HEADER_PT) + "\n" + \
        'Participante7,"Ana Souza","Enviado para avaliação",8,10,Sim,"2026-11-30T10:00:00+00:00",' \
        '"2026-11-30T11:00:00+00:00",""\n'
    assert moodle_worksheet_import(text, "pt_br", {7}) == {7: {"grade": 8.0, "comment": ""}}
    with pytest.raises(AssertionError, match="invalidgradeimport"):
        moodle_worksheet_import(text, "en", {7})


def test_grade_numbers_and_brazilian_format():
    assert moodle.moodle_number(8.5) == "8.5" and moodle.moodle_number(10) == "10"
    assert moodle.moodle_number(2 / 3) == "0.67" and moodle.moodle_number(0) == "0"
    assert moodle.brazilian(8.5) == "8,5" and moodle.brazilian(100) == "100"


def test_feedback_folder_names_survive_moodles_split_at_underscores():
    name = moodle.folder_name("Ana_Maria de Souza/Lima", "101")
    assert name == "Ana Maria de Souza Lima_101_assignsubmission_file_"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{name}/01_pytorch_fundamentals.html", "<html></html>")
    assert moodle_zip_import(buf.getvalue(), {101}) == {101: ["/01_pytorch_fundamentals.html"]}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _corrupt(raw: bytes, marker: bytes) -> bytes:
    at = raw.index(marker)
    return raw[:at] + b"X" + raw[at + 1:]  # stored data changed: the CRC no longer matches


def test_safe_copy_keeps_only_safe_readable_members(tmp_path):
    inner = _zip({"ok.ipynb": b"{}", "../../escapa.ipynb": b"{}"})
    raw = _zip({"Ana_1_assignsubmission_file_/a.ipynb": b"{}",
                "Eva_5_assignsubmission_file_/../../fora.ipynb": b"{}",
                "/tmp/absoluto.ipynb": b"{}",
                "C:/windows.ipynb": b"{}",
                "Fabio_6_assignsubmission_file_/f.ipynb": b"CONTEUDO-QUE-SERA-CORROMPIDO",
                "Gil_7_assignsubmission_file_/pacote.zip": inner})
    link = zipfile.ZipInfo("Hugo_8_assignsubmission_file_/atalho.ipynb")
    link.external_attr = (0o120777 << 16)  # a symbolic link (to /etc/passwd)
    buf = io.BytesIO(raw)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(link, "/etc/passwd")
    src = tmp_path / "baixado.zip"
    src.write_bytes(_corrupt(buf.getvalue(), b"CONTEUDO-QUE"))
    skipped = dict(lms.safe_copy(src, tmp_path / "seguro.zip"))
    assert "link simbólico" in skipped["Hugo_8_assignsubmission_file_/atalho.ipynb"]
    with zipfile.ZipFile(tmp_path / "seguro.zip") as zf:
        assert zf.testzip() is None
        kept = set(zf.namelist())
        with zipfile.ZipFile(io.BytesIO(zf.read("Gil_7_assignsubmission_file_/pacote.zip"))) as nested:
            assert nested.namelist() == ["ok.ipynb"]
    assert kept == {"Ana_1_assignsubmission_file_/a.ipynb", "Gil_7_assignsubmission_file_/pacote.zip"}
    assert "'..'" in skipped["Eva_5_assignsubmission_file_/../../fora.ipynb"]
    assert "absoluto" in skipped["/tmp/absoluto.ipynb"] and "absoluto" in skipped["C:/windows.ipynb"]
    assert "não foi possível ler" in skipped["Fabio_6_assignsubmission_file_/f.ipynb"]
    assert "'..'" in skipped["Gil_7_assignsubmission_file_/pacote.zip/../../escapa.ipynb"]


def test_the_download_stops_nbgraders_extraction_but_not_its_safe_copy(tmp_path):
    """nbgrader's zip_collect extracts with setuptools, which raises UnsafeMember for these members."""
    from setuptools.archive_util import UnsafeMember, unpack_zipfile

    src = tmp_path / "baixado.zip"
    src.write_bytes(_zip({"Ana_1_assignsubmission_file_/a.ipynb": b"{}",
                          "Eva_5_assignsubmission_file_/../../fora.ipynb": b"{}"}))
    with pytest.raises(UnsafeMember):
        unpack_zipfile(str(src), str(tmp_path / "direto"))
    lms.safe_copy(src, tmp_path / "seguro.zip")
    unpack_zipfile(str(tmp_path / "seguro.zip"), str(tmp_path / "extraido"))
    assert [p.name for p in (tmp_path / "extraido").rglob("*.ipynb")] == ["a.ipynb"]
    assert not (tmp_path / "fora.ipynb").exists()


def test_safe_copy_of_something_that_is_not_a_zip(tmp_path):
    src = tmp_path / "submissoes.zip"
    src.write_bytes(b"<html>erro de download</html>")
    skipped = lms.safe_copy(src, tmp_path / "copia.zip")
    assert len(skipped) == 1 and "não é um zip" in skipped[0][1]
    assert not (tmp_path / "copia.zip").exists()


# --- a whole class from a Moodle download -------------------------------------------------------

def _download(release, source) -> bytes:
    ok, colab = S.ok(release, source)["00_mini.ipynb"], S.colab_saved(release, source)["00_mini.ipynb"]
    members = {
        "Ana Souza_101_assignsubmission_file_/00_mini.ipynb": ok,
        "Bruno Lima_102_assignsubmission_file_/Cópia de 00_mini.ipynb": colab,
        "Carla Dias_103_assignsubmission_file_/00_mini.ipynb": S.untouched(release, source)["00_mini.ipynb"],
        "Davi Reis_104_assignsubmission_file_/relatorio.pdf": b"%PDF-1.4",
        "Eva Nunes_105_assignsubmission_file_/../../../fora.ipynb": ok,
        "/tmp/absoluto.ipynb": ok,
        "Fabio Melo_106_assignsubmission_file_/00_mini.ipynb": ok,
    }
    raw = _zip(members)
    # Fabio's notebook (the last copy of `ok` in the archive) is damaged inside the zip: bad CRC
    marker = ok[len(ok) // 2: len(ok) // 2 + 40]
    at = raw.rindex(marker)
    return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1:]


@pytest.fixture(scope="module")
def moodle_class(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("moodle")
    course, release, source = mini_course(tmp / "curso")
    place(course, "local", S.ok(release, source))  # already in submitted/, not from the zip
    zpath = tmp / "submissoes.zip"
    zpath.write_bytes(_download(release, source))
    outcome = grading.grade_class(course, zip_path=zpath, progress=False, **MINI_LIMITS)
    yield course, outcome
    shutil.rmtree(course.root, ignore_errors=True)


def test_unsafe_and_unreadable_members_are_skipped_and_the_class_is_graded(moodle_class):
    course, outcome = moodle_class
    totals = {s: sum(x for x, _ in grading.notebook_totals(outcome, s).values()) for s in outcome.scores}
    assert totals["101"] == 5 and totals["102"] == 5 and totals["103"] == 0 and totals["local"] == 5
    skipped = dict(outcome.skipped_files)
    assert "fora da pasta" in skipped["Eva Nunes_105_assignsubmission_file_/../../../fora.ipynb"]
    assert "/tmp/absoluto.ipynb" in skipped
    assert "não foi possível ler" in skipped["Fabio Melo_106_assignsubmission_file_/00_mini.ipynb"]
    assert not (course.root / "downloaded" / "fora.ipynb").exists() and not (course.root.parent / "fora.ipynb").exists()
    report = (course.root / grading.REPORT_MD).read_text(encoding="utf-8")
    assert "não coletado" in report and "fora.ipynb" in report and "UnsafeMember" not in report


@pytest.mark.parametrize("language,name", [("pt_br", moodle.WORKSHEET_PT), ("en", moodle.WORKSHEET_EN)])
def test_grading_worksheet_imports_grades_and_comments(moodle_class, language, name):
    course, outcome = moodle_class
    text = (course.root / moodle.FOLDER / name).read_text(encoding="utf-8")
    rows = moodle_worksheet_import(text, language, participants={101, 102, 103, 104, 106, 999})
    # grades on the Moodle assignment's scale (settings.MOODLE_GRADE_MAX), per participant id
    assert {k: v["grade"] for k, v in rows.items()} == {101: 10.0, 102: 10.0, 103: 0.0, 104: None, 106: None}
    assert "00_mini: 5 / 5" in rows[101]["comment"] and "00_mini: 0 / 5" in rows[103]["comment"]
    assert "renomeado" in rows[102]["comment"]  # the report's reasons go along
    assert "relatorio.pdf" in rows[104]["comment"] and "Nenhum notebook" in rows[104]["comment"]
    header = next(csv.reader(io.StringIO(text)))
    assert header[0] == STRINGS[language]["recordid"]


def test_feedback_zip_has_each_students_html_where_moodle_looks(moodle_class):
    course, outcome = moodle_class
    data = (course.root / moodle.FOLDER / moodle.FEEDBACK_ZIP).read_bytes()
    found = moodle_zip_import(data, participants={101, 102, 103, 104, 106})
    assert found == {101: ["/00_mini.html"], 102: ["/00_mini.html"], 103: ["/00_mini.html"]}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        html = zf.read("Carla Dias_103_assignsubmission_file_/00_mini.html").decode()
    assert "nota: 0 / 5" in html and "Testes ocultos" in html  # Brazilian number format, Portuguese labels


def test_nobody_is_dropped_silently(moodle_class):
    course, outcome = moodle_class
    said = dict(outcome.lms)
    assert "não veio do zip" in said["local"]
    assert "nenhum notebook coletado" in said["104"] and "nenhum notebook coletado" in said["106"]
    rows = {r["participante"]: r for r in csv.DictReader(open(course.root / moodle.FOLDER / moodle.REPORT,
                                                                 encoding="utf-8"))}
    assert set(rows) == {"101", "102", "103", "104", "105", "106", "local"}
    assert "nenhum notebook coletado" in said["105"]  # its only file would have landed outside
    assert rows["101"]["nota_moodle"] == "10" and rows["101"]["arquivos_de_devolutiva"] == "1"
    assert "[moodle] local" in grading.summary_table(course, outcome)


def test_feedback_template_writes_scores_in_brazilian_format():
    import jinja2

    folder = Path(moodle.__file__).parent / "templates" / "devolutiva"
    macros = jinja2.Environment(loader=jinja2.FileSystemLoader(folder)).get_template("numeros_br.j2").module
    assert macros.nota(8.5, 10) == "8,5 / 10"
    assert macros.nota(0.0, 5.0) == "0 / 5" and macros.nota(2 / 3, 100) == "0,67 / 100"
    assert macros.numero(-0.0) == "0"
    assert "numeros_br.j2" in (folder / "index.html.j2").read_text(encoding="utf-8")
