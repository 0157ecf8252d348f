"""Distribution next to the Colab badges: an nbgitpuller link per lesson, and JupyterLab in Portuguese."""
from __future__ import annotations

import re
from importlib import metadata
from urllib.parse import parse_qs, urlsplit

from conftest import ROOT
from course import badges, settings

LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def _table_links() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split(badges.README_START, 1)[1].split(badges.README_END, 1)[0]
    return LINK.findall(table)


def _check_nbgitpuller(url: str, notebook: str, hub: str) -> None:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == hub.rstrip("/")
    assert parts.path == "/hub/user-redirect/git-pull"
    query = parse_qs(parts.query, strict_parsing=True)
    assert set(query) == {"repo", "branch", "urlpath"}
    assert query["repo"] == [f"https://github.com/{settings.REPO_SLUG}"]
    assert query["branch"] == [settings.REPO_BRANCH]
    # nbgitpuller clones into a folder named after the repository, under the user's home
    repo_name = settings.REPO_SLUG.split("/")[1]
    assert query["urlpath"] == [f"lab/tree/{repo_name}/release/{settings.ASSIGNMENT}/{notebook}.ipynb"]
    assert (ROOT / "release" / settings.ASSIGNMENT / f"{notebook}.ipynb").exists()


def test_readme_table_has_a_well_formed_nbgitpuller_link_per_lesson():
    links = [u for u in _table_links() if "git-pull" in u]
    assert len(links) == len(settings.NOTEBOOKS)
    for notebook, url in zip(settings.NOTEBOOKS, links):
        _check_nbgitpuller(url, notebook, settings.JUPYTERHUB_URL)
    colab = [u for u in _table_links() if u.startswith("https://colab.research.google.com/github/")]
    assert colab == [settings.colab_url(n) for n in settings.NOTEBOOKS]


def test_links_follow_the_hub_address_in_settings(monkeypatch):
    monkeypatch.setattr(settings, "JUPYTERHUB_URL", "https://hub.outra-escola.br/")
    table = badges.readme_table()
    links = [u for u in LINK.findall(table) if "git-pull" in u]
    assert len(links) == len(settings.NOTEBOOKS)
    for notebook, url in zip(settings.NOTEBOOKS, links):
        _check_nbgitpuller(url, notebook, "https://hub.outra-escola.br")
    assert badges.update_badges(write=False)  # the README would change: `make badges` rewrites it


def test_jupyterlab_portuguese_language_pack_is_pinned_and_installed():
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert "jupyterlab-language-pack-pt-br" in pins
    assert metadata.version("jupyterlab-language-pack-pt-br") == pins["jupyterlab-language-pack-pt-br"]
    from jupyterlab_server.translation_utils import get_language_packs

    packs, _ = get_language_packs("en")
    assert "pt_BR" in packs
