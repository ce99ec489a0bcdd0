"""Running a planned batch on this machine: in this process (one worker) or in N worker processes, each with its
share of the cores, each loading the model once and taking files until none are left.

Every job ends as an ``Outcome``; a failing file never stops the others. A worker that dies takes only its current
file with it (reported failed; a new worker takes its place). Ctrl-C or SIGTERM stops the workers, whose current
outputs are discarded (a resumed batch redoes them), and re-raises KeyboardInterrupt.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Callable

from .batch import Job
from .config import EngineConfig
from .errors import LivematteError
from .outputs import Edges
from .safewrite import clean_after

_MATTERS: dict = {}  # EngineConfig -> engine: each worker process loads the model once


@dataclass(frozen=True)
class JobSettings:
    """What every job of a batch runs with (picklable: it travels to worker processes and Ray tasks)."""

    verb: str
    engine: EngineConfig
    background: str | None
    edges: Edges = Edges()
    fps: object = None
    overwrite: bool = False
    foreign_stale: bool = False  # Ray: a lock from another node is a dead attempt's


@dataclass
class Outcome:
    index: int
    ok: bool
    message: str = ""          # the error, when not ok
    frames: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def default_workers(jobs: int) -> int:
    """Two cores a worker (one for inference, one for decode, composite and encode), never more than the files."""
    return max(1, min(jobs, usable_cores() // 2))


def cached_matter(config: EngineConfig):
    if config not in _MATTERS:
        from .engine import Matter  # torch: only in a process that runs the engine

        _MATTERS[config] = Matter(config)
    return _MATTERS[config]


def process_job(index: int, job: Job, settings: JobSettings,
                on_frame: Callable[[int, int, int | None], None] | None = None) -> Outcome:
    """Run one job here; its failure (something the user can fix, or a bug) becomes a failed Outcome."""
    from .offline import convert_video, render_image

    started = time.perf_counter()
    matter = lambda: cached_matter(settings.engine)  # noqa: E731 - built on the first good input only
    try:
        if settings.verb == "image":
            render_image(job.source.path, job.outputs, background=settings.background, matter=matter,
                         overwrite=settings.overwrite, edges=settings.edges, foreign_stale=settings.foreign_stale)
            return Outcome(index, True, frames=1, seconds=time.perf_counter() - started)
        expected = []
        report = (lambda n: on_frame(index, n, expected[0] if expected else None)) if on_frame else None
        result = convert_video(job.source.path, outputs=job.outputs, background=settings.background, matter=matter,
                               overwrite=settings.overwrite, progress=False, on_frame=report, edges=settings.edges,
                               fps=settings.fps, keep_interrupted=False, foreign_stale=settings.foreign_stale)
        return Outcome(index, True, frames=result.frames_written, seconds=result.seconds, notes=list(result.notes))
    except LivematteError as exc:
        return Outcome(index, False, str(exc), seconds=time.perf_counter() - started)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a bug on one file: told with the others' results, its traceback saved
        from .cli import report_internal_error

        return Outcome(index, False, report_internal_error(exc), seconds=time.perf_counter() - started)


def run_here(jobs: list[Job], settings: JobSettings, on_event: Callable) -> None:
    """One worker: this process, one file after another."""
    for i, job in enumerate(jobs):
        on_event(("start", i))
        on_event(("done", process_job(i, job, settings, lambda i, n, total: on_event(("frame", i, n)))))


def _worker_main(settings: JobSettings, threads: int, conn) -> None:
    """A worker process: the model once, then the jobs the parent sends on ``conn`` until it sends None. SIGTERM
    from the parent ends the current job as an interruption (its output discarded); Ctrl-C at the terminal is the
    parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import cv2

    cv2.setNumThreads(threads)
    if settings.engine.threads in (None, 0):
        settings = JobSettings(**{**settings.__dict__, "engine": settings.engine.replace(threads=threads)})
    last = [0.0]

    def frame(i, n, total):
        now = time.monotonic()
        if now - last[0] > 0.25:  # a few messages a second, not one a frame
            last[0] = now
            conn.send(("frame", i, n))

    try:
        while (task := conn.recv()) is not None:
            i, job = task
            conn.send(("done", process_job(i, job, settings, frame)))
    except (KeyboardInterrupt, EOFError, OSError):
        pass


def run_processes(jobs: list[Job], settings: JobSettings, workers: int, on_event: Callable) -> None:
    """N worker processes (spawned: a fresh interpreter each, no forked threads), the cores shared among them.

    Each has its own pipe, on which the parent hands it one job at a time: a worker killed mid-message (out of
    memory, SIGKILL) breaks only its own pipe, never a queue's lock that the others need."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")
    todo = list(range(len(jobs)))[::-1]  # popped from the end: in order
    threads = max(1, usable_cores() // workers)
    running: dict = {}  # connection -> (process, job index or None)
    finished: set[int] = set()
    restarts = 0

    def start_worker():
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker_main, args=(settings, threads, child), daemon=True)
        p.start()
        child.close()
        running[parent] = (p, None)
        give(parent)

    def give(conn):
        p = running[conn][0]
        if todo:
            i = todo.pop()
            running[conn] = (p, i)
            conn.send((i, jobs[i]))
            on_event(("start", i))
        else:
            running[conn] = (p, None)
            conn.send(None)

    for _ in range(min(workers, len(jobs))):
        start_worker()
    try:
        while len(finished) < len(jobs):
            if not running:
                for i in todo:
                    finished.add(i)
                    on_event(("done", Outcome(i, False, "no worker was left to run it")))
                break
            for conn in wait(list(running), timeout=0.5):
                p, current = running[conn]
                try:
                    event = conn.recv()
                except (EOFError, OSError):  # died (killed, out of memory): its file failed, a new one goes on
                    p.join(5)
                    del running[conn]
                    if current is not None:
                        for _, target in jobs[current].outputs:
                            clean_after(target, p.pid)
                        finished.add(current)
                        on_event(("done", Outcome(current, False,
                                                  f"the worker process died (exit code {p.exitcode})")))
                    if todo and restarts < len(jobs):  # bounded: a worker that dies at start must not loop forever
                        restarts += 1
                        start_worker()
                    continue
                if event[0] == "done":
                    finished.add(event[1].index)
                    on_event(event)
                    give(conn)
                else:
                    on_event(event)
    except KeyboardInterrupt:
        for p, _ in running.values():
            if p.is_alive():
                os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p, _ in running.values():
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
        raise
    for p, _ in running.values():
        p.join(10)
