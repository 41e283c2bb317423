"""Writing results so that nothing is half-written and nothing of the user's is lost.

Promises kept here (see ``docs/guarantees.md``; tested in ``tests/test_guarantees.py``):

* every file and folder appears whole or not at all: written under a temporary name, flushed,
  then renamed into place;
* lunarsim replaces or deletes only what it wrote and can recognise as its own: a folder whose
  manifest lists its files with their SHA-256, a file carrying its mark or recorded with its
  SHA-256, a temporary name of its own (``.lunarsim-XXXXXXXX.tmp``, ``.partial``, ``.old``);
  anything else in the way is an error, and nothing is touched;
* a leftover of a killed writer is recognised (a staging folder's lock is free) and cleared.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sim.base.errors import UserError

TEMP_PREFIX = ".lunarsim-"  # every temporary name lunarsim makes starts so (and is short)
TEMP_FILE = re.compile(r"\.lunarsim-[a-z0-9_]{8}\.tmp")
STAGE_DIR = re.compile(r"\.lunarsim-[a-z0-9_]{8}\.partial")
OLD_DIR = re.compile(r"\.lunarsim-[a-z0-9_]{8}\.old")
STAGE_MARK = ".lunarsim-stage"  # inside a staging folder while it is being written
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: temporary names are private, finished files get the usual modes


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[str]:
    """Yield a temporary file name beside ``path``; on success it is flushed to disk and renamed
    over ``path``, on failure removed (with any folders made for it)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UserError(f"{path}: exists and is not a regular file; lunarsim will not replace it")
    made = make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".tmp")
    except BaseException:
        remove_empty_dirs(made)
        raise
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp's 0600 would make results unreadable to others
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        remove_empty_dirs(made)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either its old content or all of the new."""
    with _replacing(Path(path)) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_json(path: Path, payload: Any) -> None:
    text = json.dumps(payload, indent=2, sort_keys=True, default=json_default) + "\n"
    atomic_write_bytes(path, text.encode())


def json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def atomic_write_parquet(path: Path, frame: Any) -> str:
    """Parquet, atomically; the same frame gives the same bytes. Returns their SHA-256."""
    with _replacing(Path(path)) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
        digest = sha256_file(Path(tmp))
    return digest


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file, not through a symbolic link: a
    FIFO, a device or a link (to ``/dev/zero``, say) in a folder lunarsim reads would hang it or
    fill its memory, so it raises ``OSError`` (``EINVAL``) instead."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a FIFO opens at once
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_text(path: Path, limit: int = 1 << 28) -> str:
    """A regular file's text (UTF-8), at most ``limit`` bytes (256 MB) of it: a larger one
    raises ``OSError`` (``EFBIG``) rather than filling memory."""
    with open_regular(Path(path)) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, "larger than any file lunarsim writes there", str(path))
    return data.decode("utf-8")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(Path(path)) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def clear_temporary_files(folder: Path) -> None:
    """Remove temporary files of atomic writes that were cut short (by name, see TEMP_FILE).
    Only where no other lunarsim can be writing: inside a locked results folder."""
    if folder.is_dir() and not folder.is_symlink():
        for path in folder.iterdir():
            if TEMP_FILE.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                path.unlink()


# --- files the user names --------------------------------------------------------------------


def check_replaceable_file(path: Path, ours: Callable[[bytes], bool], label: str) -> None:
    """A file the user names as output may replace only a file lunarsim wrote, unchanged since
    (``ours`` tells from its bytes); anything else is refused in one line, before any work."""
    path = Path(path)
    with writing_to(label):
        if not (path.exists() or path.is_symlink()):
            return
    if path.is_symlink() or not path.is_file():
        raise UserError(f"{label}: exists and is not a regular file; lunarsim will not replace it")
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    if not ours(data):
        raise UserError(f"{label}: exists and was not written by lunarsim, or was changed since; "
                        "choose another --out or move it away")


def lunarsim_png(data: bytes) -> bool:
    """A PNG whose ``Software`` text chunk says lunarsim wrote it."""
    return data.startswith(b"\x89PNG\r\n\x1a\n") and b"tEXtSoftware\x00lunarsim" in data[:4096]


def inside_lunarsim_folder(path: Path) -> Path | None:
    """The results or run folder of lunarsim's that holds ``path``, if any."""
    for folder in Path(os.path.abspath(path)).parents:
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(manifest, dict) and manifest.get("kind") in ("experiment", "run"):
            return folder
    return None


# --- folders ---------------------------------------------------------------------------------


def make_dirs(folder: Path) -> list[Path]:
    """``mkdir -p``, returning the folders it made (outermost first), so that a command that
    fails can remove them again and leave the disk as it found it."""
    missing = []
    node = Path(folder)
    while not node.is_dir():
        missing.append(node)
        if node.parent == node:
            break
        node = node.parent
    made = []
    try:
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                if not path.is_dir():
                    raise
                continue  # made by someone else meanwhile: not ours to remove
            made.append(path)
    except BaseException:
        remove_empty_dirs(made)
        raise
    return made


def remove_empty_dirs(made: list[Path]) -> None:
    """Remove folders from :func:`make_dirs` again, innermost first, if they are still empty."""
    for path in reversed(made):
        with contextlib.suppress(OSError):
            path.rmdir()


def check_not_enclosing_cwd(path: Path, label: str) -> None:
    """Refuse an output folder that is the current folder or one holding it."""
    target, here = Path(os.path.abspath(path)), Path.cwd()
    if target == here or target in here.parents:
        raise UserError(f"{label}: is the current folder or holds it; name a new folder")


def try_lock(fd: int) -> bool:
    """Take an exclusive ``flock`` on ``fd`` if no one holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _is_stale_stage(path: Path) -> bool:
    """A staging folder of lunarsim's whose writer has died (its lock is free)."""
    if path.is_symlink() or not (path / STAGE_MARK).is_file():
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        return try_lock(fd)
    finally:
        os.close(fd)


def _clear_leftovers(parent: Path, owned: Callable[[Path], bool]) -> None:
    """Remove what killed writers left in ``parent``, by lunarsim's own names only: staging
    folders whose writer is dead, and replaced folders (empty, or lunarsim's run folders)."""
    with contextlib.suppress(OSError):
        for path in parent.iterdir():
            if path.is_symlink() or not path.is_dir():
                continue
            if STAGE_DIR.fullmatch(path.name) and _is_stale_stage(path):
                shutil.rmtree(path, ignore_errors=True)
            elif OLD_DIR.fullmatch(path.name) and (not any(path.iterdir()) or owned(path)):
                _remove_owned(path)


def _remove_owned(folder: Path) -> None:
    """Delete a run folder that ``owned`` has vouched for: its files, then the folder."""
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink():
            path.unlink()
    folder.rmdir()


def check_output_folder(final: Path, owned: Callable[[Path], bool], label: str) -> None:
    """Refuse (one line, nothing touched) an output folder lunarsim may not replace."""
    check_not_enclosing_cwd(final, label)
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        raise UserError(f"{label}: exists and is not a folder; lunarsim will not replace it")
    if final.is_dir() and any(final.iterdir()) and not owned(final):
        raise UserError(f"{label}: exists and is not a lunarsim run folder (it holds files "
                        "lunarsim did not write or that were changed); choose another --out")


@contextlib.contextmanager
def staged_dir(final: Path, owned: Callable[[Path], bool], label: str | None = None) -> Iterator[Path]:
    """Build a folder under a temporary name; it takes the place of ``final`` only if the block
    succeeds. ``final`` may be absent, an empty folder, or a folder ``owned(final)`` says
    lunarsim wrote; anything else is refused before anything is written.

    On any error (or Ctrl-C) the partial folder is removed and ``final`` is left as it was. The
    staging folder is locked while its writer lives, so a later writer can tell one left by a
    killed process (and removes it) from one still being written.
    """
    final = Path(final)
    label = label or f"--out {final}"
    with writing_to(label):
        check_output_folder(final, owned, label)
        made = make_dirs(final.parent)
        _clear_leftovers(final.parent, owned)
        try:
            stage = Path(tempfile.mkdtemp(dir=final.parent, prefix=TEMP_PREFIX, suffix=".partial"))
        except BaseException:
            remove_empty_dirs(made)
            raise
    os.chmod(stage, 0o777 & ~_UMASK)  # mkdtemp's 0700, as mkdir would have made it
    fd = os.open(stage, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        (stage / STAGE_MARK).touch()
        yield stage
        _swap_into_place(stage, final, owned, label)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        remove_empty_dirs(made)
        raise
    finally:
        os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        (final / STAGE_MARK).unlink()


def _swap_into_place(stage: Path, final: Path, owned: Callable[[Path], bool], label: str) -> None:
    """Put ``stage`` where ``final`` is, keeping ``final`` if anything goes wrong. The renames
    are not cut in two by Ctrl-C (it is raised after them)."""
    if final.is_dir() and any(final.iterdir()) and not owned(final):
        raise UserError(f"{label}: was changed by someone else while the run was written; "
                        "nothing was replaced")  # since it was checked
    old = None
    with deferred_interrupts():
        if final.is_dir() and any(final.iterdir()):
            old = Path(tempfile.mkdtemp(dir=final.parent, prefix=TEMP_PREFIX, suffix=".old"))
            os.replace(final, old)  # onto our own empty folder
        try:
            os.replace(stage, final)  # an empty folder at ``final`` is replaced whole (POSIX)
        except BaseException:
            if old is not None:
                os.replace(old, final)
            raise
    if old is not None:
        _remove_owned(old)


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block is done, then raise it: for steps that must not be
    cut in two (two renames that swap folders; workers that are starting)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


# --- errors about paths ----------------------------------------------------------------------

USER_PATH_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG, errno.ENOTDIR,
                    errno.EISDIR, errno.EEXIST, errno.ENOENT, errno.ELOOP, errno.EINVAL,
                    errno.ENXIO}


def is_user_path_error(err: OSError) -> bool:
    """A path the user chose cannot be written (read-only, too long, not a folder): the user's
    to fix, exit 2. A full disk or an I/O error is the machine's, exit 1."""
    return err.errno in USER_PATH_ERRNOS


@contextlib.contextmanager
def writing_to(label: str) -> Iterator[None]:
    """Report a path the user chose that cannot be written as their mistake, naming it
    (``label``: ``--out PATH`` if they gave it, else the path)."""
    try:
        yield
    except OSError as err:
        if not is_user_path_error(err):
            raise
        raise UserError(f"{label}: cannot write there ({err.strerror or err})") from None


def out_label(path: Path, given: bool) -> str:
    """How messages name an output: as the option the user gave, or as the default path."""
    return f"--out {path}" if given else str(path)


# --- files lunarsim keeps a record of ---------------------------------------------------------


class RecordedFiles:
    """Files lunarsim writes into a folder of its own and records, with their SHA-256, in a
    record file beside them (``analysis.json`` for what ``compare`` writes).

    A file may be replaced (or, on ``--force``, deleted) only if it is still as lunarsim
    recorded it; one the user has edited, or put there, is refused before anything is written.
    A write first records each target's old and new checksums, then writes the files (each
    atomically), then records the new ones only: cut short anywhere (a full disk, Ctrl-C,
    ``kill -9``), every file is old or new and both are accepted next time. Only names matching
    ``allowed`` are written or trusted, so an edited record cannot point lunarsim elsewhere.
    """

    def __init__(self, folder: Path, record: str, allowed: re.Pattern[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / record
        self.allowed = allowed

    def _read(self) -> dict[str, Any] | None:
        """The record (``files``: {name: [SHA-256, ...]}, and what else was noted); None if
        there is none."""
        if not (self.path.exists() or self.path.is_symlink()):
            return None
        try:
            data = json.loads(self.path.read_text()) if self.path.is_file() else None
        except (OSError, ValueError, RecursionError):
            data = None
        files = data.get("files") if isinstance(data, dict) else None
        if self.path.is_symlink() or not isinstance(files, dict) or not all(
                isinstance(k, str) and self.allowed.fullmatch(k) and _digests(v) is not None
                for k, v in files.items()):
            raise UserError(f"{self.path}: not lunarsim's record of the files it wrote; move it "
                            "away to write them again")
        return data

    def _files(self) -> dict[str, list[str]]:
        files = (self._read() or {}).get("files", {})
        return {name: _digests(value) or [] for name, value in files.items()}

    def _holder_problem(self, name: str) -> str | None:
        for parent in list(Path(name).parents)[:-1]:
            holder = self.folder / parent
            if holder.is_symlink() or (holder.exists() and not holder.is_dir()):
                return f"{holder}: is not a folder; move it away to write {name}"
        return None

    def recorded(self, key: str) -> Any:
        """What the last writer recorded beside the files under ``key`` (None if nothing)."""
        return (self._read() or {}).get(key)

    def check(self, names: list[str]) -> None:
        """Refuse, naming them all in one line, the targets lunarsim may not replace."""
        record = self._files()
        theirs = []
        for name in names:
            assert self.allowed.fullmatch(name), name
            problem = self._holder_problem(name)
            if problem:
                raise UserError(problem)
            path = self.folder / name
            if not (path.exists() or path.is_symlink()):
                continue
            if path.is_symlink() or not path.is_file():
                raise UserError(f"{path}: is not a regular file; lunarsim will not replace it")
            if sha256_file(path) not in record.get(name, []):
                theirs.append(name)
        if theirs:
            shown = ", ".join(theirs[:3]) + (f" and {len(theirs) - 3} more" if len(theirs) > 3
                                             else "")
            them = "them" if len(theirs) > 1 else "it"
            raise UserError(f"{self.folder}: {shown}: changed since lunarsim wrote {them}, or not "
                            f"written by lunarsim; move {them} away to write {them} again")

    def write(self, files: dict[str, bytes], extra: dict[str, Any] | None = None) -> None:
        """Check every target, then write each file and the record (see the class)."""
        self.check(list(files))
        clear_temporary_files(self.folder)
        for name in files:
            clear_temporary_files((self.folder / name).parent)
        record = (self._read() or {}) | (extra or {})
        known = self._files()
        new = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        pending = known | {name: sorted({*known.get(name, []), digest})
                           for name, digest in new.items()}
        atomic_write_json(self.path, record | {"files": dict(sorted(pending.items()))})
        for name, data in files.items():
            atomic_write_bytes(self.folder / name, data)
        done = known | {name: [digest] for name, digest in new.items()}
        atomic_write_json(self.path, record | {"files": dict(sorted(done.items()))})

    def remove(self) -> None:
        """Delete the recorded files that are still as written, then the record."""
        if self._read() is None:
            return
        files = self._files()
        for name, digests in files.items():
            path = self.folder / name
            if self._holder_problem(name) or path.is_symlink() or not path.is_file():
                continue
            if sha256_file(path) in digests:
                path.unlink()
        for name in sorted({str(Path(n).parent) for n in files} - {"."}):
            if not (self.folder / name).is_symlink():
                with contextlib.suppress(OSError):
                    (self.folder / name).rmdir()
        self.path.unlink()


def _digests(value: Any) -> list[str] | None:
    """A record's checksums for one file: one, or (mid-write) the old and the new."""
    values = [value] if isinstance(value, str) else value
    if isinstance(values, list) and values and all(
            isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) for v in values):
        return list(values)
    return None
