"""Paths as a report shows them to a reader: never the author's folders.

A report, or a manifest a reader sees, is sent to colleagues; an absolute path in it shows where
its author keeps files and means nothing on another machine. :func:`shown_path` writes a path
relative to the project (the folder holding ``scenarios/``), else to the working folder, else as
its file name alone; :func:`shown_command` writes a command line with its program by name;
:func:`found_path` finds a shown path again (a results manifest stores its paths so).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def shown_path(path: str | os.PathLike | None) -> str:
    """``path`` relative to the project, else to the working folder, else its name alone."""
    if path is None or str(path) == "":
        return ""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    resolved = p.resolve()
    for base in (PROJECT, Path.cwd().resolve()):
        try:
            return resolved.relative_to(base).as_posix()
        except ValueError:
            continue
    return p.name


def shown_argv(argv: list[str]) -> list[str]:
    """A command line's words as typed by name: the program by its name, absolute paths (also
    after ``key=``) as :func:`shown_path` shows them."""
    if not argv:
        return []
    words = [Path(argv[0]).name]
    for word in argv[1:]:
        key, eq, value = word.partition("=")
        if eq and os.path.isabs(value):
            words.append(f"{key}={shown_path(value)}")
        else:
            words.append(shown_path(word) if os.path.isabs(word) else word)
    return words


def shown_command(argv: list[str]) -> str:
    """A command line as typed by name: ``lunarsim compare --out X``."""
    return " ".join(shown_argv(argv))


def found_path(path: str | os.PathLike | None) -> Path | None:
    """A path :func:`shown_path` wrote, found again: as it is if absolute, else under the
    project, else under the working folder; None where it is not there (a file known by its
    name alone, or moved)."""
    if path is None or str(path) == "":
        return None
    p = Path(path)
    for candidate in ((p,) if p.is_absolute() else (PROJECT / p, Path.cwd() / p)):
        if candidate.exists():
            return candidate
    return None
