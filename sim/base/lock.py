"""One writer per results folder: the lock that ``batch``, ``compare`` and ``plot`` hold."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.base.errors import UserError
from sim.base.io import make_dirs, remove_empty_dirs, try_lock, writing_to

LOCK_NAME = ".lunarsim.lock"
MACHINE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.ENOMEM}
READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


class FolderLock:
    """An exclusive lock on a results folder, held while a command works in it.

    The lock is a file, ``.lunarsim.lock``, holding the holder's pid, host, start time and
    command, locked with ``flock``: the kernel releases it when the holder dies however it dies,
    so a lock file left by a killed process is recognised as stale and taken over (``stale``
    then describes the dead holder). A second writer is refused with one line naming the holder.

    The lock file must be lunarsim's: it is never opened through a symbolic link, never if it
    has other names (a hard link) or is not a regular file, and never if it holds anything but a
    holder's record. A command that is refused leaves it, and the folder's time, as they were.
    """

    def __init__(self, folder: Path, label: str | None = None) -> None:
        self.folder = Path(folder)
        self.label = label or str(self.folder)
        self.path = self.folder / LOCK_NAME
        self.stale: dict[str, Any] | None = None
        self._fd: int | None = None
        self._made: list[Path] = []
        self._found = b""
        self._ancestor = self.folder
        self._times: tuple[int, int] = (0, 0)

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

    def _open(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as err:
            if err.errno in MACHINE_ERRNOS:
                raise
            if err.errno in READ_ONLY_ERRNOS:  # the folder, or the file, may not be written
                raise UserError(f"{self.folder}: cannot be written here ({err.strerror}); "
                                "lunarsim writes a lock file and its results into the folder: "
                                "make it writable, or copy it somewhere writable") from None
            raise UserError(f"{self.path}: is not a lock file lunarsim can use "
                            f"({err.strerror}); move it away") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            os.close(fd)
            raise UserError(f"{self.path}: is not a lock file lunarsim can use (it has other "
                            "names, or is not a regular file); move it away")
        return fd

    def _acquire(self) -> None:
        while True:
            fd = self._open()
            if not try_lock(fd):
                holder = _holder(os.pread(fd, 4096, 0))
                os.close(fd)
                raise UserError(f"{self.folder}: in use by another lunarsim "
                                f"({_describe(holder or {})}); wait for it to finish or stop it")
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed the file as we opened it: try again
        found = os.pread(fd, 1 << 16, 0)
        holder = _holder(found)
        if found and holder is None:
            os.close(fd)
            raise UserError(f"{self.path}: not a lunarsim lock file; move it away")
        self._found, self.stale = found, holder or None
        payload = {"pid": os.getpid(), "host": socket.gethostname(), "command": sys.argv,
                   "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(payload).encode(), 0)
        self._fd = fd

    def __exit__(self, exc_type: object, *exc: object) -> None:
        assert self._fd is not None
        refused = isinstance(exc_type, type) and issubclass(exc_type, UserError)
        if refused and self._found:  # leave a stale lock as found: this command did nothing
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, self._found, 0)
        else:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # while still holding it (see _acquire)
        os.close(self._fd)
        self._fd = None
        remove_empty_dirs(self._made)  # a folder made only to hold the lock goes too
        if refused:
            with contextlib.suppress(OSError):  # not even a folder's time changes
                os.utime(self._ancestor, ns=self._times)

    def stale_note(self) -> str | None:
        """One line about a stale lock that was taken over, or None."""
        if self.stale is None:
            return None
        return (f"{self.folder}: took over a lock left by a stopped lunarsim "
                f"({_describe(self.stale)})")


def _existing_ancestor(folder: Path) -> Path:
    """``folder`` if it exists, else its nearest ancestor that does."""
    node = Path(os.path.abspath(folder))
    while not node.is_dir() and node.parent != node:
        node = node.parent
    return node


def _times(folder: Path) -> tuple[int, int]:
    st = folder.stat()
    return st.st_atime_ns, st.st_mtime_ns


def _holder(data: bytes) -> dict[str, Any] | None:
    """A holder's record read from a lock file; {} if empty; None if it is not one."""
    if not data:
        return {}
    try:
        holder = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return holder if isinstance(holder, dict) and "pid" in holder else None


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    command = holder.get("command")
    what = " ".join(map(str, command[1:3])) if isinstance(command, list) else ""
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since "
            f"{holder.get('started_at', '?')}" + (f": lunarsim {what}" if what else ""))
