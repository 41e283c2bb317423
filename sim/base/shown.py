"""Paths as a report shows them to a reader: never the author's folders.

A report, or a manifest a reader sees, is sent to colleagues; an absolute path in it shows where
its author keeps files and means nothing on another machine. :func:`shown_path` writes a path
relative to the project (the folder holding ``scenarios/``), else to the working folder, else as
its file name alone; :func:`shown_command` writes a command line with its program by name.
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


def shown_command(argv: list[str]) -> str:
    """A command line as typed by name: ``lunarsim compare --out X`` (absolute paths shown as
    :func:`shown_path` shows them)."""
    if not argv:
        return ""
    words = [Path(argv[0]).name]
    for word in argv[1:]:
        key, eq, value = word.partition("=")
        if eq and os.path.isabs(value):
            words.append(f"{key}={shown_path(value)}")
        else:
            words.append(shown_path(word) if os.path.isabs(word) else word)
    return " ".join(words)
