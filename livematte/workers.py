"""Running a planned batch on this machine: in this process (one worker) or in N worker processes, each with its
share of the cores, each loading the model once and taking files until none are left.

Every job ends as an ``Outcome``; a failing file never stops the others. A worker that dies takes only its current
file with it (reported failed; a new worker takes its place). Ctrl-C or SIGTERM stops the workers, whose current
outputs are discarded (a resumed batch redoes them), and re-raises KeyboardInterrupt.
"""
from __future__ import annotations

import os
import queue
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


def _worker_main(settings: JobSettings, threads: int, tasks, events) -> None:
    """A worker process: the model once, then jobs until the queue says stop. SIGTERM from the parent ends the
    current job as an interruption (its output discarded); Ctrl-C at the terminal is the parent's to handle."""
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
            events.put(("frame", i, n))

    try:
        while (task := tasks.get()) is not None:
            i, job = task
            events.put(("start", i, os.getpid()))
            events.put(("done", process_job(i, job, settings, frame)))
    except KeyboardInterrupt:
        pass


def run_processes(jobs: list[Job], settings: JobSettings, workers: int, on_event: Callable) -> None:
    """N worker processes (spawned: a fresh interpreter each, no forked threads), the cores shared among them."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    tasks, events = ctx.Queue(), ctx.Queue()
    for i, job in enumerate(jobs):
        tasks.put((i, job))
    for _ in range(workers):
        tasks.put(None)
    threads = max(1, usable_cores() // workers)
    procs: list = []
    current: dict[int, int] = {}  # pid -> job index it is working on
    finished: set[int] = set()
    restarts = [0]

    def start_worker():
        p = ctx.Process(target=_worker_main, args=(settings, threads, tasks, events), daemon=True)
        p.start()
        procs.append(p)

    for _ in range(workers):
        start_worker()
    try:
        while len(finished) < len(jobs):
            try:
                event = events.get(timeout=0.2)
            except queue.Empty:
                event = None
            if event is not None:
                if event[0] == "start":
                    current[event[2]] = event[1]
                    event = event[:2]
                elif event[0] == "done":
                    finished.add(event[1].index)
                    current = {pid: i for pid, i in current.items() if i != event[1].index}
                on_event(event)
                continue
            for p in list(procs):
                if p.exitcode not in (None, 0):  # died (killed, out of memory): its file failed, a new one goes on
                    procs.remove(p)
                    i = current.pop(p.pid, None)
                    if i is not None and i not in finished:
                        for _, target in jobs[i].outputs:
                            clean_after(target, p.pid)
                        finished.add(i)
                        on_event(("done", Outcome(i, False, f"the worker process died (exit code {p.exitcode})")))
                    if restarts[0] < len(jobs):  # bounded: a worker that dies at start must not loop forever
                        restarts[0] += 1
                        start_worker()
            if not any(p.is_alive() for p in procs) and len(finished) < len(jobs):
                for i in range(len(jobs)):
                    if i not in finished:
                        finished.add(i)
                        on_event(("done", Outcome(i, False, "no worker was left to run it")))
    except KeyboardInterrupt:
        for p in procs:
            if p.is_alive():
                os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in procs:
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
        raise
    for p in procs:
        p.join(10)
