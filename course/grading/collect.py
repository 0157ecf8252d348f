"""Collect: an LMS download (zip) into nbgrader's `submitted/` folder, through `nbgrader zip_collect`."""
from __future__ import annotations

import shutil
from pathlib import Path

from ..settings import ASSIGNMENT
from ..workspace import Course


def collect_zip(course: Course, zip_path: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Run `nbgrader zip_collect` on an LMS download; return (id -> name, files not collected)."""
    from .. import lms

    archive = course.root / "downloaded" / ASSIGNMENT / "archive"
    extracted = course.root / "downloaded" / ASSIGNMENT / "extracted"
    shutil.rmtree(archive, ignore_errors=True)
    archive.mkdir(parents=True)
    # nbgrader's extraction stops at the first member outside its folder (UnsafeMember) and collects
    # nobody: it gets a copy with only the safe, readable members; the others are reported
    name = Path(zip_path).stem + ".zip"
    not_copied = lms.safe_copy(Path(zip_path), archive / name)
    if not (archive / name).exists():
        return {}, not_copied
    course.nbgrader("zip_collect", ASSIGNMENT, "--force")
    # nbgrader extracts each archive into a folder named after it
    inside = extracted / Path(name).stem
    names, skipped = lms.scan(inside if inside.is_dir() else extracted)
    return names, not_copied + skipped
