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
  .lunarsim.lock         while a command works here (see sim.base.lock.FolderLock)
  analysis.json, ...     what `compare` wrote (see sim.base.io.RecordedFiles)
```

Each finished chunk writes one part file per table (atomically), then its marker, which names
the runs it finished and the checksum of each part. A chunk counts only if its marker is whole,
names exactly the tables its runs produce, and every part is present with its checksum; and at
the end of each session the manifest lists every chunk then committed, so a marker deleted later
is noticed too. Anything else is *damaged*. Resuming deletes damaged chunks and parts without a
marker (a batch killed mid-chunk) and runs their runs again; reading refuses a folder with a
damaged chunk, naming it. Runs named by an intact marker are never run again. So an interrupted
or damaged batch resumes without losing or duplicating runs, and an analysis never reads a
half-written or altered table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.base.errors import UserError
from sim.base.io import (
    TEMP_FILE,
    RecordedFiles,
    atomic_write_json,
    clear_temporary_files,
    read_regular_text,
    sha256_file,
)
from sim.base.lock import LOCK_NAME
from sim.experiment.worker import ChunkResult, part_name, write_parts

TABLES = ("runs", "nations", "pairs", "series_model", "series_nations", "failures")
SORT_KEYS = {
    "runs": ["run"],
    "nations": ["run", "nation"],
    "pairs": ["run", "nation", "toward"],
    "series_model": ["run", "step"],
    "series_nations": ["run", "step", "nation"],
    "failures": ["run"],
}
# 1: markers without checksums (lunarsim 0.1 before the reliability work); 2: columns before the
# convention of sim.base.columns; 3: before lunar welfare, rare-earth costs and discounted welfare
# were reported apart
RESULTS_FORMAT = 4
PART = re.compile(r"^s(\d+)-c(\d+)\.(parquet|json)$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ANALYSIS = ("analysis.json", "comparison.csv", "levels.csv", "decomposition.csv", "report.md",
            "report.html", "figures", "plots", "sensitivity.csv", "discovery.csv", "discovery.txt")
ANALYSIS_RECORD = "analysis.json"
# an analysis against another reference than the experiment's own has its names suffixed
# "-vs-REFERENCE", so that it never replaces the main one; `plot` writes into plots/
VS = r"(-vs-[a-z0-9_]+)?"
ANALYSIS_FILES = re.compile(rf"(comparison|levels|decomposition){VS}\.csv|"
                            r"(sensitivity|discovery|robust|vulnerabilities|search|search_convergence)\.csv|"
                            r"(discovery|robust)\.txt|"
                            rf"report{VS}\.(md|html)|brief\.(md|html)|"
                            rf"(figures|plots)/[a-z_]+{VS}\.png")
FIGURE_KINDS = ("timeseries", "differences", "nations", "cooperation", "leverage", "heatmap",
                "channels")
# all compare may write (the stage game's figure is drawn by compare only)
ANALYSIS_NAMES = ["comparison.csv", "levels.csv", "decomposition.csv", "report.md", "report.html",
                  *(f"figures/{kind}.png" for kind in (*FIGURE_KINDS, "games"))]
OWN_NAMES = {*TABLES, "chunks", "manifest.json", LOCK_NAME, *ANALYSIS}


class _Read(BaseModel):
    """Types are checked as written (no "1" for 1); fields not named here are kept unread."""

    model_config = ConfigDict(strict=True, extra="allow")


class _ScenarioRecord(_Read):
    file: str
    sha256: str
    description: str
    leverage_holder: str | None = None


class ManifestFields(_Read):
    """What the analysis reads of a results manifest, with its type: a manifest edited or
    damaged into another shape is refused in one line where it is read, not deep in a figure."""

    kind: Literal["experiment"]
    experiment: str
    description: str
    experiment_file: str | None
    experiment_sha256: str
    model_sha256: str
    scenarios: dict[str, _ScenarioRecord]
    scenario_order: list[str]
    reference: str | None
    master_seed: int
    replicates: int
    seeds: list[Annotated[list[int], Field(min_length=2, max_length=2)]]  # [replicate, seed]
    parameters: list[Annotated[str, Field(pattern=r"^[^\n]*\.[^\n]*$")]]  # dotted paths
    design_points: list[dict[str, Any]]
    runs_total: int
    series: Literal["all", "model", "none"]
    versions: dict[str, str]
    git_commit: str | None
    command: list[str]


def analysis_files(folder: Path) -> RecordedFiles:
    """What ``compare`` and ``plot`` write into a results folder, and their record."""
    return RecordedFiles(folder, ANALYSIS_RECORD, ANALYSIS_FILES)


def expected_tables(series: str, succeeded: bool, failed: bool) -> set[str]:
    """The tables a chunk writes: a part per table its runs produce."""
    tables = {"runs", "nations", "pairs"} if succeeded else set()
    if succeeded and series in ("model", "all"):
        tables.add("series_model")
    if succeeded and series == "all":
        tables.add("series_nations")
    return tables | ({"failures"} if failed else set())


@dataclass(frozen=True)
class Marker:
    """A committed chunk: its name (``s000-c0000012``), its runs, and its parts' checksums."""

    name: str
    succeeded: frozenset[int]
    failed: frozenset[int]
    parts: dict[str, str]  # table -> SHA-256 of its part file


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

    def manifest(self, current: bool = True) -> dict[str, Any]:
        """The manifest, checked: a results manifest (of this lunarsim's format, if
        ``current``)."""
        if not (self.manifest_path.exists() or self.manifest_path.is_symlink()):
            raise UserError(self.missing_manifest())
        try:
            manifest = json.loads(read_regular_text(self.manifest_path))
        except (OSError, ValueError, RecursionError) as err:
            why = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
            raise UserError(f"{self.manifest_path}: not a readable results manifest ({why}); "
                            f"{self._force_hint()}") from None
        if not isinstance(manifest, dict) or manifest.get("kind") != "experiment" \
                or not isinstance(manifest.get("experiment_sha256"), str):
            raise UserError(f"{self.manifest_path}: not a lunarsim results manifest; "
                            f"{self._force_hint()}")
        if current and manifest.get("results_format") != RESULTS_FORMAT:
            raise UserError(f"{self.folder}: made by an older lunarsim (results format "
                            f"{manifest.get('results_format', 1)}); 'lunarsim batch EXPERIMENT "
                            f"--out {self.folder} --force' runs it afresh")
        if current:
            try:
                ManifestFields.model_validate(manifest)
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                raise UserError(f"{self.manifest_path}: {where}: {first['msg'].lower()} (edited "
                                f"or damaged); {self._force_hint()}") from None
        return manifest

    def missing_manifest(self) -> str:
        """Why a folder without a manifest is not read, and what repairs it."""
        return f"{self.folder}: not a results folder (no manifest.json); {self._force_hint()}"

    def _force_hint(self) -> str:
        if self.looks_like_ours():
            return f"'lunarsim batch EXPERIMENT --out {self.folder} --force' runs it afresh"
        return "choose another folder"

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write_json(self.manifest_path, manifest | {"results_format": RESULTS_FORMAT})

    def looks_like_ours(self) -> bool:
        """A results folder by its contents, even if its manifest is damaged (so that
        ``--force`` may clear it): nothing in it that lunarsim would not write, and at least one
        whole chunk marker of lunarsim's."""
        try:
            names = [p.name for p in self.folder.iterdir()]
        except OSError:
            return False
        if not all(n in OWN_NAMES or ANALYSIS_FILES.fullmatch(n) or TEMP_FILE.fullmatch(n)
                   for n in names):
            return False
        for path in sorted((self.folder / "chunks").glob("s*-c*.json")):
            try:
                if _parse_marker(path.stem, json.loads(read_regular_text(path))) is not None:
                    return True
            except (OSError, ValueError, RecursionError):
                continue
        return False

    def layout_problem(self) -> str | None:
        """Something in the folder's own places that lunarsim will neither read nor delete: a
        table that is not a folder, a part that is not a regular file."""
        for name in (*TABLES, "chunks"):
            folder = self.folder / name
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                return f"{folder}: is not a folder"
            for path in _entries(folder):
                if (PART.match(path.name) or TEMP_FILE.fullmatch(path.name)) and (
                        path.is_symlink() or not path.is_file()):
                    return f"{path}: is not a regular file"
        return None

    def reset(self) -> None:
        """Start afresh: remove every part, marker, temporary file and the manifest a previous
        batch wrote here, named as lunarsim names them, and the analysis written from them if
        unchanged since; anything else in the folder stays."""
        analysis_files(self.folder).remove()
        for name in (*TABLES, "chunks"):
            folder = self.folder / name
            clear_temporary_files(folder)
            for path in _entries(folder):
                if PART.match(path.name):
                    path.unlink()
            _rmdir_if_empty(folder)
        clear_temporary_files(self.folder)
        self.manifest_path.unlink(missing_ok=True)

    # --- commits ---------------------------------------------------------------------------

    def _promises(self) -> tuple[str, set[str], int | None]:
        """From the manifest: which series each chunk keeps, the chunks committed by the end of
        the last session (each must still be there), and how many runs the experiment has."""
        try:
            manifest = json.loads(read_regular_text(self.manifest_path))
        except (OSError, ValueError, RecursionError):
            manifest = {}
        manifest = manifest if isinstance(manifest, dict) else {}
        chunks = manifest.get("chunks")
        listed = {c for c in chunks if isinstance(c, str)} if isinstance(chunks, list) else set()
        series = manifest.get("series")
        total = manifest.get("runs_total")
        return ((series if series in ("none", "model", "all") else "all"), listed,
                total if type(total) is int else None)

    def scan(self) -> Scan:
        """Read and check every marker and the parts it names. A part is hashed again only if
        its size, time or inode changed since this store last hashed it."""
        series, listed, total = self._promises()
        intact: list[Marker] = []
        damaged: list[tuple[str, str]] = []
        claimed: dict[int, str] = {}
        for path in sorted((self.folder / "chunks").glob("s*-c*.json")):
            if not PART.match(path.name):
                continue
            marker, problem = self._check(path, series, total)
            if marker is not None and not problem:
                twice = sorted(marker.succeeded & claimed.keys())
                if twice:
                    problem = f"run {twice[0]} is already committed by {claimed[twice[0]]}"
            if problem or marker is None:
                damaged.append((path.stem, problem))
                continue
            claimed |= dict.fromkeys(marker.succeeded, marker.name)
            intact.append(marker)
        seen = {m.name for m in intact} | {name for name, _ in damaged}
        damaged += [(name, "its marker is missing") for name in sorted(listed - seen)]
        return Scan(intact, damaged)

    def _sha256(self, path: Path) -> str:
        st = path.stat()
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        known = self._digests.get(path)
        if known is None or known[0] != key:
            known = (key, sha256_file(path))
            self._digests[path] = known
        return known[1]

    def _check(self, path: Path, series: str, total: int | None) -> tuple[Marker | None, str]:
        try:
            raw = json.loads(read_regular_text(path))
        except (OSError, ValueError, RecursionError) as err:
            return None, f"its marker is unreadable ({type(err).__name__})"
        marker = _parse_marker(path.stem, raw)
        if marker is None:
            return None, "its marker is not a lunarsim chunk marker of this version"
        runs = marker.succeeded | marker.failed
        if not runs or (total is not None and max(runs) >= total):
            return marker, "its marker names no run, or a run the experiment does not have"
        expected = expected_tables(series, bool(marker.succeeded), bool(marker.failed))
        if set(marker.parts) != expected:
            return marker, "its marker does not name the tables its runs produce"
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

    def chunk_names(self) -> list[str]:
        """The intact chunks, for the manifest's record of what was committed."""
        return [m.name for m in self.scan().intact]

    def next_session(self) -> int:
        sessions = [int(m.group(1)) for table in (*TABLES, "chunks")
                    for m in (PART.match(p.name) for p in _entries(self.folder / table)) if m]
        return max(sessions, default=-1) + 1

    def clear_temporary(self) -> None:
        """Remove what writes cut short left (a worker killed while it wrote a part)."""
        for table in (*TABLES, "chunks"):
            clear_temporary_files(self.folder / table)
        clear_temporary_files(self.folder)

    def repair(self) -> list[tuple[str, str]]:
        """Before resuming: delete damaged chunks (marker and parts), parts no intact marker
        commits, and temporary files of writes cut short, so their runs are run again.
        Returns the damaged chunks found. (:meth:`layout_problem` must be None.)"""
        scan = self.scan()
        keep = {m.name: m.parts for m in scan.intact}
        self.clear_temporary()
        for table in (*TABLES, "chunks"):
            for path in _entries(self.folder / table):
                match = PART.match(path.name)
                committed = match and path.stem in keep and (
                    table == "chunks" or table in keep[path.stem])
                if match and not committed:
                    path.unlink()
        return scan.damaged

    def require_intact(self) -> None:
        """Refuse, in one line, to read a folder with a damaged chunk."""
        self._refuse_damaged(self.scan())

    def _refuse_damaged(self, scan: Scan) -> None:
        problem = self.layout_problem()
        if problem:
            raise UserError(f"{problem}; lunarsim will not read or delete it: move it away, then "
                            f"'lunarsim batch EXPERIMENT --out {self.folder} --resume'")
        if scan.damaged:
            name, problem = scan.damaged[0]
            more = f" (and {len(scan.damaged) - 1} more)" if len(scan.damaged) > 1 else ""
            raise UserError(f"{self.folder}: chunk {name} is damaged: {problem}{more}; "
                            f"'lunarsim batch EXPERIMENT --out {self.folder} --resume' runs "
                            "its runs again")

    def write_chunk(self, session: int, result: ChunkResult) -> None:
        """Commit a finished chunk: its parts first (unless its worker wrote them), then the
        marker that commits them."""
        if result.parts is None:
            result = write_parts(result, self.folder, session)
        name = part_name(session, result.first)
        assert result.parts is not None
        for table, (digest, key) in result.parts.items():  # not hashed again while unchanged
            self._digests[self.folder / table / f"{name}.parquet"] = (key, digest)
        marker = {"format": RESULTS_FORMAT, "succeeded": result.succeeded,
                  "failed": result.failed,
                  "parts": {table: digest for table, (digest, _) in result.parts.items()}}
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
            frame = _concatenated(sorted(parts))
        except (OSError, pyarrow.ArrowException) as err:  # changed since it was checked
            raise UserError(f"{self.folder}: {table} cannot be read ({err}); another program "
                            "changed it while it was read") from None
        if table == "failures":  # a run retried on resume: keep its latest failure, if it failed
            succeeded = set().union(*(m.succeeded for m in scan.intact))
            frame = frame[~frame["run"].isin(succeeded)].drop_duplicates("run", keep="last")
        return frame.sort_values(SORT_KEYS[table], kind="stable").reset_index(drop=True)


def _concatenated(paths: list[Path]) -> Any:  # -> pandas.DataFrame
    """The Parquet files ``paths`` as one table, in that order: read in threads (the decoding
    releases the GIL) and converted to pandas once, which is what makes it two or three times
    faster than reading and joining them one by one (the same frame: tested)."""
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd
    import pyarrow
    import pyarrow.parquet as pq

    with ThreadPoolExecutor(max_workers=min(4, len(paths))) as pool:
        tables = list(pool.map(pq.read_table, paths))
    try:
        return pyarrow.concat_tables(tables).to_pandas()
    except pyarrow.ArrowInvalid:  # parts whose columns are typed differently: joined by pandas
        return pd.concat([t.to_pandas() for t in tables], ignore_index=True)


def _parse_marker(name: str, raw: Any) -> Marker | None:
    """A marker's content, checked field by field; None if it is not one of this version."""
    if not isinstance(raw, dict) or raw.get("format") != RESULTS_FORMAT:
        return None
    runs = [raw.get("succeeded"), raw.get("failed")]
    parts = raw.get("parts")
    if not all(isinstance(r, list) and all(type(v) is int and v >= 0 for v in r) for r in runs):
        return None
    if not isinstance(parts, dict) or not all(
            t in TABLES and isinstance(d, str) and SHA256.match(d) for t, d in parts.items()):
        return None
    return Marker(name, frozenset(runs[0]), frozenset(runs[1]), dict(parts))


def _entries(folder: Path) -> list[Path]:
    """A folder's entries; none if it is not a folder."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    return list(folder.iterdir())


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
