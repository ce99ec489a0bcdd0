"""Running a planned batch on a Ray cluster: each file a task; Ray's worker processes keep the model they loaded
(``workers.cached_matter``) and take tasks until none are left.

Inputs and outputs are paths that every node sees (shared storage). A task whose worker process or node dies is
retried by Ray up to ``RETRIES`` times, then the file is reported failed; each attempt writes through the safe-write
path (hidden partial, moved into place when complete), so a killed attempt never leaves a broken file at the target,
and the next attempt takes over its lock. Ctrl-C cancels the tasks left (their partial outputs are removed).
"""
from __future__ import annotations

import signal
import time
from typing import Callable

from .batch import Job, Source
from .errors import LivematteError, SettingsError
from .safewrite import SafeOutput
from .workers import JobSettings, Outcome, process_job

RETRIES = 2  # attempts after the first when a worker dies
INSTALL_HINT = "--ray needs Ray: pip install 'livematte[ray]' (or pip install ray)"


def _import_ray():
    try:
        import ray
    except ImportError:
        raise SettingsError(INSTALL_HINT) from None
    return ray


def check_ray() -> None:
    """Before any work: Ray is installed."""
    _import_ray()


def livematte_file(index: int, job: Job, settings: JobSettings) -> Outcome:
    """One file, in a Ray worker process (its title while it runs: ray::livematte_file)."""
    import ray

    cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)) or 1
    if settings.engine.threads in (None, 0):
        settings = JobSettings(**{**settings.__dict__, "engine": settings.engine.replace(threads=cpus)})
    return process_job(index, job, settings)


def _clean_up(job: Job) -> None:
    """After the last attempt died: its partial outputs and locks, taken over and removed as the next attempt would."""
    for _, target in job.outputs:
        try:
            SafeOutput(target.absolute(), target.suffix == "", foreign_stale=True).discard()
        except LivematteError:
            pass  # a live process holds it: not ours to clean


def connect(address: str) -> None:
    ray = _import_ray()
    kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if address == "local":
            ray.init(**kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "a running Ray cluster (ray start --head on a node, or RAY_ADDRESS)" if address == "auto" else address
        raise SettingsError(f"cannot connect to {where}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    # ray.init makes SIGTERM exit the driver at once (143), leaving its tasks writing: back to an interruption, so
    # that the tasks are cancelled and their partial outputs removed (exit 130), as without Ray
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_ray(jobs: list[Job], settings: JobSettings, address: str, on_event: Callable,
            cpus_per_task: float = 1) -> None:
    ray = _import_ray()
    connect(address)
    try:
        remote = ray.remote(livematte_file).options(num_cpus=cpus_per_task, max_retries=RETRIES, retry_exceptions=False)
        pending = {}
        for i, job in enumerate(jobs):  # absolute paths: a worker's folder is not this one's
            job = Job(Source(job.source.path.absolute(), job.source.rel, job.source.stem),
                      [(t, target.absolute()) for t, target in job.outputs])
            pending[remote.remote(i, job, settings)] = i
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                for ref in ready:
                    i = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the worker or node died RETRIES + 1 times
                        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                        outcome = Outcome(i, False, f"failed after {RETRIES + 1} attempts: {first}")
                        _clean_up(jobs[i])
                    on_event(("done", outcome))
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref)  # not forced: the task's own interruption removes its partial output
            deadline = time.monotonic() + 15
            while pending and time.monotonic() < deadline:
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.5)
                for ref in ready:
                    pending.pop(ref)
            raise
    finally:
        ray.shutdown()
