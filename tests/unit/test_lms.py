"""course.lms: Moodle's download-all layout, matched and scanned (no zip_collect run)."""
from __future__ import annotations

import unicodedata

import pytest

from course import lms


@pytest.mark.parametrize("path, expected", [
    ("Ana Souza_101_assignsubmission_file_/00_mini.ipynb",
     {"name": "Ana Souza", "student_id": "101", "file_id": "00_mini.ipynb"}),
    ("turma/Ana Souza_101_assignsubmission_file_/sub/pasta/00_mini.ipynb",
     {"name": "Ana Souza", "student_id": "101", "file_id": "00_mini.ipynb"}),
    ("Bruno de Lima_7_assignsubmission_onlinetext_/texto.html",
     {"name": "Bruno de Lima", "student_id": "7", "file_id": "texto.html"}),
    # a name with an underscore and digits: the id is the last number before the marker
    ("Carla_2_Dias_33_assignsubmission_file_/a.ipynb",
     {"name": "Carla_2_Dias", "student_id": "33", "file_id": "a.ipynb"}),
])
def test_moodle_paths_give_name_id_and_file(path, expected):
    assert lms.match(path) == expected


@pytest.mark.parametrize("path", [
    "leia-me.txt",
    "pasta_sem_padrao/00_mini.ipynb",
    "Ana Souza_abc_assignsubmission_file_/00_mini.ipynb",
    "Ana Souza_101_assignsubmission_file_/",
    "Ana Souza_101_assignsubmission_quiz_/00_mini.ipynb",
])
def test_other_paths_do_not_match(path):
    assert lms.match(path) is None


def test_names_in_decomposed_unicode_match_as_composed():
    """macOS zips store 'José' decomposed (e + combining accent): the name comes out composed."""
    path = unicodedata.normalize("NFD", "José Araújo_5_assignsubmission_file_/00_mini.ipynb")
    assert lms.match(path)["name"] == "José Araújo"


def test_collector_plugin_gives_nbgrader_only_the_id_and_the_file():
    info = lms.MoodleCollector().collect("extracted/x/Ana Souza_101_assignsubmission_file_/00_mini.ipynb")
    assert info == {"student_id": "101", "file_id": "00_mini.ipynb"}
    assert lms.MoodleCollector().collect("extracted/x/leia-me.txt") is None


def test_scan_maps_ids_to_names_and_says_why_a_file_is_left_out(tmp_path):
    files = {
        "Ana Souza_101_assignsubmission_file_/00_mini.ipynb": "{}",
        "Bruno Lima_102_assignsubmission_file_/Cópia de 00_mini.ipynb": "{}",
        "Bruno Lima_102_assignsubmission_file_/relatorio.pdf": "%PDF",
        "leia-me.txt": "x",
        "pasta_sem_padrao/00_mini.ipynb": "{}",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    names, skipped = lms.scan(tmp_path)
    assert names == {"101": "Ana Souza", "102": "Bruno Lima"}
    why = dict(skipped)
    assert set(why) == {"Bruno Lima_102_assignsubmission_file_/relatorio.pdf", "leia-me.txt",
                        "pasta_sem_padrao/00_mini.ipynb"}
    assert "não é um notebook .ipynb (aluno 102)" in why["Bruno Lima_102_assignsubmission_file_/relatorio.pdf"]
    assert "não segue o padrão do Moodle" in why["leia-me.txt"]


def test_scan_accepts_another_lms_pattern(tmp_path):
    (tmp_path / "42-maria").mkdir()
    (tmp_path / "42-maria" / "00_mini.ipynb").write_text("{}")
    pattern = r"(?P<student_id>\d+)-(?P<name>[^/]+)/(?P<file_id>[^/]+)$"
    assert lms.scan(tmp_path, pattern) == ({"42": "maria"}, [])
