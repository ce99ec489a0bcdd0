"""The one way every output is written: a lock beside the target, a hidden partial file (or folder) unique to this
process, moved into place only when complete, removed on error.

A second livematte process that asks for the same target while the first writes it is refused (the lock, created
with O_EXCL); a lock left by a process that died (same host, pid gone) is taken over, with its partial file. Names
that would pass the file system's 255-byte limit are shortened with a hash, so a long target still gets a partial.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import socket
from pathlib import Path
from typing import Callable

from .errors import OutputError

NAME_MAX = 255  # bytes in one file name on every common file system


def name_max(folder: Path) -> int:
    try:
        return min(NAME_MAX, os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def check_name(path: Path, what: str = "output") -> None:
    """Refuse a name longer than the file system allows, before any work (an OutputError, not an OSError later)."""
    size = len(os.fsencode(path.name))
    if size > NAME_MAX:
        raise OutputError(f"{what} name is {size} bytes, over the file system's limit of {NAME_MAX}: {path.name[:60]}"
                          f"... (choose a shorter name with -o)")


def check_path(path: Path, what: str, error=OutputError) -> None:
    """Every part of ``path`` within the file system's limits (255 bytes a name, 4096 a path), told before any work."""
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise error(f"{what} {path.name[:40]}...: a name in it is {size} bytes, over the file system's limit of "
                        f"{NAME_MAX}")
    if len(os.fsencode(str(path))) >= 4096:
        raise error(f"{what} path is over the file system's limit of 4096 bytes")


def hidden_name(target: Path, tag: str) -> Path:
    """``.NAME.TAG.EXT`` beside ``target`` (extension kept: it picks the container), a hash in place of the end of
    the name's stem when that would pass the limit."""
    stem, ext = target.stem, target.suffix
    name = f".{stem}.{tag}{ext}"
    if len(os.fsencode(name)) > name_max(target.parent) - 4:
        digest = hashlib.sha1(os.fsencode(target.name)).hexdigest()[:12]
        keep = os.fsencode(stem)[:100].decode("utf-8", "ignore")
        name = f".{keep}~{digest}.{tag}{ext}"
    return target.with_name(name)


def partial_path(target: Path, pid: int | None = None) -> Path:
    return hidden_name(target, f"partial-{pid or os.getpid()}")


def lock_path(target: Path) -> Path:
    name = f".{target.name}.lock"
    if len(os.fsencode(name)) > name_max(target.parent):
        keep = os.fsencode(target.name)[:100].decode("utf-8", "ignore")
        name = f".{keep}~{hashlib.sha1(os.fsencode(target.name)).hexdigest()[:12]}.lock"
    return target.with_name(name)


def _pid_alive(pid: int, since: float | None = None) -> bool:
    """A process ``pid`` runs, and (where Linux tells) it started before ``since``: a pid reused by a process that
    started after the lock was written is not the lock's owner."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if since is not None:
        started = _start_time(pid)
        if started is not None and started > since + 1:
            return False
    return True


def _start_time(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch), from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        with open("/proc/stat") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime"))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class SafeOutput:
    """One output being written. ``partial`` is where the writer writes; ``commit()`` moves it into place (``move``
    for a folder of frames), ``discard()`` removes it; both release the lock. As a context manager, an exception
    discards. ``foreign_stale``: a lock from another host counts as stale (Ray: the driver runs one task per output,
    so a lock from another node is that of an attempt that died)."""

    def __init__(self, target: Path, folder: bool = False, foreign_stale: bool = False):
        self.target = Path(target)
        check_name(self.target)
        self.folder = folder
        self.lock = lock_path(self.target)
        self._acquire(foreign_stale)
        self.partial = partial_path(self.target)
        _remove(self.partial)  # a crashed run of a reused pid must not leave frames in this one
        self.done = False

    def _acquire(self, foreign_stale: bool) -> None:
        me = f"{socket.gethostname()} {os.getpid()}\n".encode()
        for _ in range(3):
            try:
                fd = os.open(self.lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if not self._take_over_stale(foreign_stale):
                    raise OutputError(f"{self.target} is being written by another livematte process "
                                      f"({self._owner() or 'unknown'}); try again when it has finished") from None
                continue
            except OSError as exc:
                if exc.errno == errno.ENAMETOOLONG:
                    raise OutputError(f"output name too long: {self.target.name[:60]}...") from None
                raise OutputError(f"cannot write beside {self.target}: {exc.strerror}") from None
            with os.fdopen(fd, "wb") as f:
                f.write(me)
            return
        raise OutputError(f"cannot lock {self.target}: another process keeps taking its lock")

    def _owner(self) -> str:
        try:
            return self.lock.read_text().strip()
        except OSError:
            return ""

    def _take_over_stale(self, foreign_stale: bool) -> bool:
        """Remove a lock whose owner is gone, and that owner's partial output; False when the owner may be alive."""
        host, _, pid = self._owner().partition(" ")
        if not pid.isdigit():
            return False  # being written this very moment, or not ours: never guess
        if host == socket.gethostname():
            try:
                written = self.lock.stat().st_mtime
            except OSError:
                return True  # gone meanwhile: try again
            if _pid_alive(int(pid), written) and int(pid) != os.getpid():
                return False
        elif not foreign_stale:
            return False
        _remove(partial_path(self.target, int(pid)))
        self.lock.unlink(missing_ok=True)
        return True

    def commit(self, move: Callable[[Path, Path], None] | None = None) -> None:
        try:
            if move is not None:
                move(self.partial, self.target)
            else:
                if self.target.is_dir() and not self.target.is_symlink():
                    raise OutputError(f"{self.target} is a folder: cannot replace it with a file")
                os.replace(self.partial, self.target)
        except OSError as exc:
            raise OutputError(f"cannot move the finished output into {self.target}: {exc.strerror}") from None
        finally:
            self.done = True
            self.release()

    def discard(self) -> None:
        _remove(self.partial)
        self.done = True
        self.release()

    def release(self) -> None:
        if self._owner() == f"{socket.gethostname()} {os.getpid()}":
            self.lock.unlink(missing_ok=True)

    def __enter__(self) -> "SafeOutput":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if not self.done:
            self.discard()


def clean_after(target: Path, pid: int) -> None:
    """Remove what a dead process ``pid`` of this host left for ``target``: its partial output and its lock."""
    _remove(partial_path(Path(target), pid))
    lock = lock_path(Path(target))
    try:
        if lock.read_text().strip() == f"{socket.gethostname()} {pid}":
            lock.unlink()
    except OSError:
        pass
