"""Work only when watched: whether any application has the virtual camera open, and what the session should do.

On Linux a v4l2loopback device is a file: the processes that read it hold it open, which ``/proc/PID/fd`` shows to
a process of the same user (or root). Polled a couple of times a second, that costs well under a millisecond. Where
it cannot be known (another platform, a backend without a device file), the session runs as always.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

WATCHED, WAITING, RELEASED = "watched", "waiting", "released"
GRACE_S = 10.0  # seconds without a viewer before the webcam is released (an app reopening at once keeps it)
WAITING_NOTE = "waiting for an app to open the camera"


def openers(device: str | os.PathLike, own_pid: int | None = None) -> int:
    """How many processes other than ``own_pid`` (default: this one) have ``device`` open."""
    own = os.getpid() if own_pid is None else own_pid
    target = os.path.realpath(device)
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            fds = os.scandir(f"/proc/{entry.name}/fd")
        except OSError:  # gone, or another user's
            continue
        with fds:
            for fd in fds:
                try:
                    if os.readlink(fd.path) == target:
                        count += 1
                        break
                except OSError:
                    continue
    return count


def can_watch(device: str | None) -> bool:
    """Whether this platform shows who has ``device`` open (Linux, a device file, a readable /proc)."""
    return (sys.platform.startswith("linux") and bool(device) and Path(device).exists()
            and Path("/proc/self/fd").is_dir())


@dataclass
class Demand:
    """Turns viewer counts into the session's state: WATCHED (match frames), WAITING (nobody watches: pause
    matting), RELEASED (nobody for ``grace_s``: release the webcam too). ``count`` returns the viewers now;
    ``None`` means it cannot be known, which counts as watched."""
    count: object  # () -> int | None
    grace_s: float = GRACE_S
    poll_s: float = 0.5
    state: str = WATCHED
    _idle_since: float | None = None
    _next_poll: float = 0.0

    def poll(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        if now < self._next_poll:
            return self.state
        self._next_poll = now + self.poll_s
        viewers = self.count()
        if viewers is None or viewers > 0:
            self._idle_since, self.state = None, WATCHED
        else:
            if self._idle_since is None:
                self._idle_since = now
            self.state = RELEASED if now - self._idle_since >= self.grace_s else WAITING
        return self.state


def for_device(device: str | None, grace_s: float = GRACE_S) -> Demand:
    """A Demand on a virtual camera device: always WATCHED where viewers cannot be counted."""
    if not can_watch(device):
        return Demand(lambda: None, grace_s)
    return Demand(lambda: openers(device), grace_s)
