"""The results folder of an experiment, written so that nothing is lost or counted twice.

```
results/<experiment>/
  manifest.json          what was run and how to reproduce it (written at start and end)
  runs/                  one row per run: identity, design values, summary metrics
  nations/               one row per run and nation: summary
  pairs/                 one row per run and ordered pair: share of steps i played C toward j
  series_model/          one row per run and step
  series_nations/        one row per run, step and nation
  failures/              one row per failed run, with its traceback
  chunks/                commit markers: which runs each chunk finished
```

Each finished chunk writes one part file per table (atomically), then its marker. A part without
a marker (a batch killed mid-chunk) is deleted when the batch resumes, and its runs are run
again; runs named by a marker are never run again. So an interrupted batch resumes without
losing or duplicating runs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import UserError
from sim.experiment.worker import ChunkResult
from sim.io import atomic_write_json, atomic_write_parquet

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


class ResultStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> dict[str, Any]:
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise UserError(f"{self.manifest_path}: not a readable results manifest ({err})") from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write_json(self.manifest_path, manifest)

    def reset(self) -> None:
        """Start afresh: remove everything a previous batch wrote here."""
        for name in (*TABLES, "chunks"):
            shutil.rmtree(self.folder / name, ignore_errors=True)
        self.manifest_path.unlink(missing_ok=True)

    # --- commits ---------------------------------------------------------------------------

    def markers(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted((self.folder / "chunks").glob("s*-c*.json")):
            found.append(json.loads(path.read_text()) | {"name": path.stem})
        return found

    def committed(self) -> tuple[set[int], set[int]]:
        """(runs that succeeded, runs whose latest attempt failed) over all committed chunks."""
        succeeded: set[int] = set()
        failed: set[int] = set()
        for marker in self.markers():
            succeeded |= set(marker["succeeded"])
            failed |= set(marker["failed"])
        return succeeded, failed - succeeded

    def next_session(self) -> int:
        sessions = [int(PART.match(m["name"] + ".json").group(1)) for m in self.markers()]
        return max(sessions, default=-1) + 1

    def drop_uncommitted(self) -> int:
        """Delete part files (and temporary files) of chunks that never wrote their marker."""
        names = {m["name"] for m in self.markers()}
        dropped = 0
        for table in (*TABLES, "chunks"):
            folder = self.folder / table
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.startswith(".") or (PART.match(path.name) and path.stem not in names):
                    path.unlink()
                    dropped += 1
        return dropped

    def write_chunk(self, session: int, result: ChunkResult) -> None:
        """Write a finished chunk: its parts first, then the marker that commits them."""
        name = f"s{session:03d}-c{result.first:07d}"
        for table, frame in result.tables().items():
            atomic_write_parquet(self.folder / table / f"{name}.parquet", frame)
        marker = {"succeeded": result.succeeded, "failed": result.failed}
        atomic_write_json(self.folder / "chunks" / f"{name}.json", marker)

    # --- reading ---------------------------------------------------------------------------

    def read(self, table: str) -> pd.DataFrame:
        """A whole table, from its committed parts, in a canonical order."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}")
        names = {m["name"] for m in self.markers()}
        folder = self.folder / table
        parts = [p for p in sorted(folder.glob("s*-c*.parquet")) if p.stem in names] \
            if folder.is_dir() else []
        if not parts:
            return pd.DataFrame()
        frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        if table == "failures":  # a run retried on resume: keep its latest failure, if it failed
            succeeded, _ = self.committed()
            frame = frame[~frame["run"].isin(succeeded)].drop_duplicates("run", keep="last")
        return frame.sort_values(SORT_KEYS[table], kind="stable").reset_index(drop=True)
