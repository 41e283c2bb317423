"""The results folder of an experiment, written so that nothing is lost, counted twice or
silently damaged.

```
results/<experiment>/
  manifest.json          what was run and how to reproduce it (written at start and end)
  runs/                  one row per run: identity, design values, summary metrics
  nations/               one row per run and nation: summary
  pairs/                 one row per run and ordered pair: share of steps i played C toward j
  series_model/          one row per run and step
  series_nations/        one row per run, step and nation
  failures/              one row per failed run, with its reason and traceback
  chunks/                commit markers: which runs each chunk finished, and its parts' SHA-256
  .lunarsim.lock         while a command writes here (see sim.io.FolderLock)
```

Each finished chunk writes one part file per table (atomically), then its marker, which names
the runs it finished and the checksum of each part. A chunk counts only if its marker is whole
and every part it names is present with that checksum; anything else is *damaged*. Resuming
deletes damaged chunks and parts without a marker (a batch killed mid-chunk) and runs their runs
again; reading refuses a folder with a damaged chunk, naming it. Runs named by an intact marker
are never run again. So an interrupted or damaged batch resumes without losing or duplicating
runs, and an analysis never reads a half-written or altered table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.experiment.worker import ChunkResult
from sim.io import atomic_write_json, atomic_write_parquet, sha256_file

TABLES = ("runs", "nations", "pairs", "series_model", "series_nations", "failures")
SORT_KEYS = {
    "runs": ["run"],
    "nations": ["run", "nation"],
    "pairs": ["run", "nation", "toward"],
    "series_model": ["run", "step"],
    "series_nations": ["run", "step", "nation"],
    "failures": ["run"],
}
PART = re.compile(r"^s(\d+)-c(\d+)\.(parquet|json)$")
MARKER_FORMAT = 2
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Marker:
    """A committed chunk: its name (``s000-c0000012``), its runs, and its parts' checksums."""

    name: str
    succeeded: frozenset[int]
    failed: frozenset[int]
    parts: dict[str, str]  # table -> SHA-256 of its part file

    @property
    def session(self) -> int:
        return int(self.name[1:].split("-")[0])


@dataclass(frozen=True)
class Scan:
    """What the folder holds: intact chunks, and damaged ones with the reason."""

    intact: list[Marker]
    damaged: list[tuple[str, str]]  # (chunk name, what is wrong)


class ResultStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._digests: dict[Path, tuple[tuple[int, int, int], str]] = {}  # path -> (stat, sha)

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError, RecursionError) as err:
            raise UserError(f"{self.manifest_path}: not a readable results manifest "
                            f"({type(err).__name__}: {err})") from None
        if not isinstance(manifest, dict) or manifest.get("kind") != "experiment" \
                or not isinstance(manifest.get("experiment_sha256"), str):
            raise UserError(f"{self.manifest_path}: not a lunarsim results manifest (no "
                            "experiment kind or hash)")
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write_json(self.manifest_path, manifest)

    def reset(self) -> None:
        """Start afresh: remove every part, marker and the manifest a previous batch wrote here
        (files named as lunarsim names them; anything else in the folder stays)."""
        for name in (*TABLES, "chunks"):
            folder = self.folder / name
            if folder.is_dir():
                for path in folder.iterdir():
                    if PART.match(path.name) or _is_temporary(path):
                        path.unlink()
                _rmdir_if_empty(folder)
        self.manifest_path.unlink(missing_ok=True)

    # --- commits ---------------------------------------------------------------------------

    def scan(self) -> Scan:
        """Read and check every marker and the parts it names. A part is hashed again only if
        its size, time or inode changed since this store last hashed it."""
        intact: list[Marker] = []
        damaged: list[tuple[str, str]] = []
        claimed: dict[int, str] = {}
        for path in sorted((self.folder / "chunks").glob("s*-c*.json")):
            if not PART.match(path.name):
                continue
            marker, problem = self._check(path)
            if marker is not None and not problem:
                twice = sorted(marker.succeeded & claimed.keys())
                if twice:
                    problem = f"run {twice[0]} is already committed by {claimed[twice[0]]}"
            if problem or marker is None:
                damaged.append((path.stem, problem))
                continue
            claimed |= dict.fromkeys(marker.succeeded, marker.name)
            intact.append(marker)
        return Scan(intact, damaged)

    def _sha256(self, path: Path) -> str:
        st = path.stat()
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        known = self._digests.get(path)
        if known is None or known[0] != key:
            known = (key, sha256_file(path))
            self._digests[path] = known
        return known[1]

    def _check(self, path: Path) -> tuple[Marker | None, str]:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError) as err:
            return None, f"its marker is unreadable ({type(err).__name__})"
        marker = _parse_marker(path.stem, raw)
        if marker is None:
            return None, "its marker is not a lunarsim chunk marker of this version"
        for table, digest in marker.parts.items():
            part = self.folder / table / f"{marker.name}.parquet"
            try:
                actual = self._sha256(part)
            except FileNotFoundError:
                return marker, f"{table}/{part.name} is missing"
            except OSError as err:
                return marker, f"{table}/{part.name} is unreadable ({err.strerror})"
            if actual != digest:
                return marker, f"{table}/{part.name} does not match its checksum"
        return marker, ""

    def committed(self) -> tuple[set[int], set[int]]:
        """(runs that succeeded, runs whose latest attempt failed) over all intact chunks."""
        succeeded: set[int] = set()
        failed: set[int] = set()
        for marker in self.scan().intact:
            succeeded |= marker.succeeded
            failed |= marker.failed
        return succeeded, failed - succeeded

    def next_session(self) -> int:
        sessions = [int(m.group(1)) for table in (*TABLES, "chunks")
                    for m in map(PART.match, _names(self.folder / table)) if m]
        return max(sessions, default=-1) + 1

    def repair(self) -> list[tuple[str, str]]:
        """Before resuming: delete damaged chunks (marker and parts) and parts no intact marker
        commits, so their runs are run again. Returns the damaged chunks found."""
        scan = self.scan()
        damaged = scan.damaged
        keep = {m.name: m.parts for m in scan.intact}
        for table in (*TABLES, "chunks"):
            folder = self.folder / table
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                match = PART.match(path.name)
                committed = match and path.stem in keep and (
                    table == "chunks" or table in keep[path.stem])
                if _is_temporary(path) or (match and not committed):
                    path.unlink()
        for path in self.folder.glob(".manifest.json.*.tmp"):  # a manifest write cut short
            if _is_temporary(path):
                path.unlink()
        return damaged

    def require_intact(self) -> None:
        """Refuse, in one line, to read a folder with a damaged chunk."""
        self._refuse_damaged(self.scan())

    def _refuse_damaged(self, scan: Scan) -> None:
        damaged = scan.damaged
        if damaged:
            name, problem = damaged[0]
            more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
            raise UserError(f"{self.folder}: chunk {name} is damaged: {problem}{more}; "
                            f"'lunarsim batch EXPERIMENT --out {self.folder} --resume' runs "
                            "its runs again")

    def write_chunk(self, session: int, result: ChunkResult) -> None:
        """Write a finished chunk: its parts first, then the marker that commits them."""
        name = f"s{session:03d}-c{result.first:07d}"
        parts = {}
        for table, frame in result.tables().items():
            path = self.folder / table / f"{name}.parquet"
            parts[table] = atomic_write_parquet(path, frame)
            st = path.stat()
            self._digests[path] = ((st.st_size, st.st_mtime_ns, st.st_ino), parts[table])
        marker = {"format": MARKER_FORMAT, "succeeded": result.succeeded,
                  "failed": result.failed, "parts": parts}
        atomic_write_json(self.folder / "chunks" / f"{name}.json", marker)

    # --- reading ---------------------------------------------------------------------------

    def read(self, table: str) -> Any:  # -> pandas.DataFrame
        """A whole table, from its intact parts, in a canonical order."""
        import pandas as pd
        import pyarrow

        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}")
        scan = self.scan()
        self._refuse_damaged(scan)
        parts = [self.folder / table / f"{m.name}.parquet" for m in scan.intact
                 if table in m.parts]
        if not parts:
            return pd.DataFrame()
        try:
            frame = pd.concat([pd.read_parquet(p) for p in sorted(parts)], ignore_index=True)
        except (OSError, pyarrow.ArrowException) as err:  # changed since it was checked
            raise UserError(f"{self.folder}: {table} cannot be read ({err}); another program "
                            "changed it while it was read") from None
        if table == "failures":  # a run retried on resume: keep its latest failure, if it failed
            succeeded = set().union(*(m.succeeded for m in scan.intact))
            frame = frame[~frame["run"].isin(succeeded)].drop_duplicates("run", keep="last")
        return frame.sort_values(SORT_KEYS[table], kind="stable").reset_index(drop=True)


def _parse_marker(name: str, raw: Any) -> Marker | None:
    """A marker's content, checked field by field; None if it is not one of this version."""
    if not isinstance(raw, dict) or raw.get("format") != MARKER_FORMAT:
        return None
    runs = [raw.get("succeeded"), raw.get("failed")]
    parts = raw.get("parts")
    if not all(isinstance(r, list) and all(type(v) is int and v >= 0 for v in r) for r in runs):
        return None
    if not isinstance(parts, dict) or not all(
            t in TABLES and isinstance(d, str) and SHA256.match(d) for t, d in parts.items()):
        return None
    if ("runs" in parts) != bool(runs[0]) or ("failures" in parts) != bool(runs[1]):
        return None
    return Marker(name, frozenset(runs[0]), frozenset(runs[1]), dict(parts))


def _names(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()] if folder.is_dir() else []


def _is_temporary(path: Path) -> bool:
    """A temporary file of an atomic write (``.NAME.XXXX.tmp``) that never completed."""
    return path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file()


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
