"""Writing results so that nothing is half-written and nothing of the user's is lost.

Three promises, each kept here and tested in ``tests/test_guarantees.py``:

* every file and folder appears whole or not at all (written under a temporary name, flushed,
  then renamed into place);
* lunarsim replaces only what it wrote and marked as its own: a folder with its manifest, a file
  carrying its mark; anything else in the way is an error, and nothing is touched;
* one writer at a time: a results folder is locked (:class:`FolderLock`) while a command writes
  into it, and a lock or a staging folder left by a killed process is recognised and recovered.
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
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import UserError

STAGE_MARK = ".lunarsim-stage"  # inside a staging folder: lunarsim made it, may clear it
LOCK_NAME = ".lunarsim.lock"
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
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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


def check_replaceable_file(path: Path, ours: Callable[[bytes], bool]) -> None:
    """A file the user names as output may replace only a file lunarsim wrote (``ours`` tells
    from its first bytes); anything else is refused in one line, before any work."""
    path = Path(path)
    if not (path.exists() or path.is_symlink()):
        return
    if path.is_symlink() or not path.is_file():
        raise UserError(f"--out {path}: exists and is not a regular file; lunarsim will not "
                        "replace it")
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        head = b""
    if not ours(head):
        raise UserError(f"--out {path}: exists and was not written by lunarsim; choose another "
                        "--out or move it away")


def lunarsim_png(head: bytes) -> bool:
    """A PNG whose ``Software`` text chunk says lunarsim wrote it."""
    return head.startswith(b"\x89PNG\r\n\x1a\n") and b"tEXtSoftware\x00lunarsim" in head


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either its old content or all of the new."""
    with _replacing(Path(path)) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_json(path: Path, payload: Any) -> None:
    text = json.dumps(payload, indent=2, sort_keys=True, default=_json_default) + "\n"
    atomic_write_bytes(path, text.encode())


def _json_default(value: Any) -> Any:
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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _is_stale_stage(path: Path) -> bool:
    """A staging folder of ours whose process has died (its lock is free)."""
    if not (path / STAGE_MARK).is_file():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return _try_lock(fd)
    finally:
        os.close(fd)


def _clear_leftovers(final: Path, owned: Callable[[Path], bool]) -> None:
    """Remove what killed writers of ``final`` left beside it: staging folders (``.NAME.*.partial``)
    whose writer is dead, and replaced folders (``.NAME.*.old``) that are lunarsim's own."""
    with contextlib.suppress(OSError):
        for path in final.parent.glob(f".{glob_escape(final.name)}.*"):
            if path.is_symlink() or not path.is_dir():
                continue
            if path.name.endswith(".partial") and _is_stale_stage(path):
                shutil.rmtree(path, ignore_errors=True)
            elif re.fullmatch(rf"\.{re.escape(final.name)}\.[a-z0-9_]{{8}}\.old", path.name) \
                    and owned(path):  # only a name mkdtemp gave (see _swap_into_place)
                _remove_owned(path)


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


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
        _clear_leftovers(final, owned)
        try:
            stage = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.",
                                          suffix=".partial"))
        except BaseException:
            remove_empty_dirs(made)
            raise
    os.chmod(stage, 0o777 & ~_UMASK)  # mkdtemp's 0700, as mkdir would have made it
    fd = os.open(stage, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        (stage / STAGE_MARK).touch()
        yield stage
        (stage / STAGE_MARK).unlink()
        _swap_into_place(stage, final, owned, label)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        remove_empty_dirs(made)
        raise
    finally:
        os.close(fd)


def _swap_into_place(stage: Path, final: Path, owned: Callable[[Path], bool], label: str) -> None:
    old = None
    if final.is_dir() and any(final.iterdir()):
        if not owned(final):  # changed since we looked: someone else's now
            raise UserError(f"{label}: was changed by someone else while the run was written; "
                            "nothing was replaced")
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".old"))
        os.replace(final, old)  # onto our own empty folder
    os.replace(stage, final)  # an empty folder at ``final`` is replaced whole (POSIX rename)
    if old is not None:
        _remove_owned(old)


# --- one writer per results folder -----------------------------------------------------------


class FolderLock:
    """An exclusive lock on a results folder, held while a command writes into it.

    The lock is a file, ``.lunarsim.lock``, holding the holder's pid, host, start time and
    command, locked with ``flock``: the kernel releases it when the holder dies however it dies,
    so a lock file left by a killed process is recognised as stale and taken over (``stale``
    then describes the dead holder). A second writer is refused with one line naming the holder.
    """

    def __init__(self, folder: Path, label: str | None = None) -> None:
        self.folder = Path(folder)
        self.label = label or str(self.folder)
        self.path = self.folder / LOCK_NAME
        self.stale: dict[str, Any] | None = None
        self._fd: int | None = None
        self._made: list[Path] = []
        self._times: tuple[int, int] = (0, 0)
        self._ancestor = self.folder

    def __enter__(self) -> FolderLock:
        with writing_to(self.label):
            self._ancestor = _existing_ancestor(self.folder)
            self._times = _times(self._ancestor)
            self._made = make_dirs(self.folder)
            try:
                self._acquire()
            except BaseException:
                remove_empty_dirs(self._made)
                raise
        return self

    def _acquire(self) -> None:
        while True:
            try:  # never through a symbolic link: the lock is written, and must be ours
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.EISDIR):
                    raise UserError(f"{self.path}: is not a lock file lunarsim can use (a link "
                                    "or a folder); move it away") from None
                raise
            if not _try_lock(fd):
                holder = _read_holder(fd)
                os.close(fd)
                raise UserError(f"{self.folder}: in use by another lunarsim ({_describe(holder)}); "
                                "wait for it to finish or stop it")
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed the file as we opened it: try again
        self.stale = _read_holder(fd) or None
        payload = {"pid": os.getpid(), "host": socket.gethostname(), "command": sys.argv,
                   "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(payload).encode(), 0)
        self._fd = fd

    def __exit__(self, exc_type: object, *exc: object) -> None:
        assert self._fd is not None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # while still holding it (see _acquire)
        os.close(self._fd)
        self._fd = None
        remove_empty_dirs(self._made)  # a folder made only to hold the lock goes too
        if exc_type is not None and isinstance(exc_type, type) and issubclass(exc_type, UserError):
            with contextlib.suppress(OSError):  # refused: not even a folder's time changes
                os.utime(self._ancestor, ns=self._times)


def _existing_ancestor(folder: Path) -> Path:
    """``folder`` if it exists, else its nearest ancestor that does."""
    node = Path(os.path.abspath(folder))
    while not node.is_dir() and node.parent != node:
        node = node.parent
    return node


def _times(folder: Path) -> tuple[int, int]:
    st = folder.stat()
    return st.st_atime_ns, st.st_mtime_ns


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    command = holder.get("command")
    what = " ".join(map(str, command[1:3])) if isinstance(command, list) else ""
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since "
            f"{holder.get('started_at', '?')}" + (f": lunarsim {what}" if what else ""))


def describe_stale(lock: FolderLock) -> str | None:
    """One line about a stale lock that was taken over, or None."""
    if lock.stale is None:
        return None
    return f"{lock.folder}: took over a lock left by a stopped lunarsim ({_describe(lock.stale)})"


USER_PATH_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG, errno.ENOTDIR,
                    errno.EISDIR, errno.EEXIST, errno.ENOENT, errno.ELOOP, errno.EINVAL}


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

    A file may be replaced (or, on ``--force``, deleted) only if it is still exactly as
    lunarsim recorded it; one the user has edited, or put there, is refused before anything is
    written. All the files of one write are checked first, then written, each atomically, then
    the record. Only names matching ``allowed`` are ever written or trusted in a record, so an
    edited record cannot point lunarsim at a file elsewhere.
    """

    def __init__(self, folder: Path, record: str, allowed: re.Pattern[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / record
        self.allowed = allowed

    def _read(self) -> dict[str, Any] | None:
        """The record (``files``: {name: SHA-256}, and what else was noted); None if none."""
        if not (self.path.exists() or self.path.is_symlink()):
            return None
        try:
            data = json.loads(self.path.read_text()) if self.path.is_file() else None
        except (OSError, ValueError, RecursionError):
            data = None
        files = data.get("files") if isinstance(data, dict) else None
        if self.path.is_symlink() or not isinstance(files, dict) or not all(
                isinstance(k, str) and self.allowed.fullmatch(k) and isinstance(v, str)
                for k, v in files.items()):
            raise UserError(f"{self.path}: not lunarsim's record of the files it wrote; move it "
                            "away to write them again")
        return data

    def _files(self) -> dict[str, str]:
        return dict((self._read() or {}).get("files", {}))

    def _holder_problem(self, name: str) -> str | None:
        for parent in list(Path(name).parents)[:-1]:
            holder = self.folder / parent
            if holder.is_symlink() or (holder.exists() and not holder.is_dir()):
                return f"{holder}: is not a folder; move it away to write {name}"
        return None

    def check(self, names: list[str]) -> None:
        """Refuse, naming the first, any target lunarsim may not replace."""
        record = self._files()
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
            if record.get(name) != sha256_file(path):
                raise UserError(f"{path}: changed since lunarsim wrote it, or not written by "
                                "lunarsim; move it away to write it again")

    def write(self, files: dict[str, bytes], extra: dict[str, Any] | None = None) -> None:
        """Check every target, then write each file and the record."""
        self.check(list(files))
        record = self._read() or {}
        written = self._files()
        for name, data in files.items():
            atomic_write_bytes(self.folder / name, data)
            written[name] = hashlib.sha256(data).hexdigest()
        atomic_write_json(self.path, record | (extra or {}) | {"files": dict(sorted(written.items()))})

    def remove(self, legacy: list[str]) -> None:
        """Delete the recorded files that are still as written, then the record. Without a
        record (a folder from before records were kept), delete the ``legacy`` names."""
        record = self._read()
        files = self._files() if record is not None else dict.fromkeys(legacy, "")
        for name, digest in files.items():
            path = self.folder / name
            if self._holder_problem(name) or path.is_symlink() or not path.is_file():
                continue
            if record is None or sha256_file(path) == digest:
                path.unlink()
        for name in sorted({str(Path(n).parent) for n in files} - {"."}):
            if not (self.folder / name).is_symlink():
                with contextlib.suppress(OSError):
                    (self.folder / name).rmdir()
        if record is not None:
            self.path.unlink()
