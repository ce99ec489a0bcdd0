"""The threaded pipeline used by both the offline (``video``) and the live paths.

source → stage → … → sink, each in its own thread, joined by bounded queues:

- lossless (offline): a full queue blocks its producer, so no frame is dropped and order is kept;
- drop-oldest (live): a full queue discards its oldest item, so latency stays low on a slow CPU.

The first exception in any thread stops every thread and is re-raised by ``join()``/``run()``; no
thread is left running. Ctrl-C in ``run()`` stops the threads and re-raises KeyboardInterrupt, after
which the caller finalizes its outputs.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterable, Sequence

_END = object()  # end of stream marker, passes through every stage
_POLL = 0.05     # seconds between checks of the stop flag while blocked


class PipelineStopped(Exception):
    """Raised inside a worker when the pipeline was asked to stop."""


class _Channel:
    def __init__(self, maxsize: int, drop_oldest: bool, stop: threading.Event):
        self.q: queue.Queue = queue.Queue(maxsize)
        self.drop_oldest, self.stop = drop_oldest, stop
        self.dropped = 0

    def put(self, item: Any) -> None:
        if self.drop_oldest and item is not _END:
            while True:
                try:
                    self.q.put_nowait(item)
                    return
                except queue.Full:
                    try:
                        self.q.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue
        raise PipelineStopped

    def get(self) -> Any:
        while not self.stop.is_set():
            try:
                return self.q.get(timeout=_POLL)
            except queue.Empty:
                continue
        raise PipelineStopped


class Pipeline:
    """Run ``source`` (an iterable) through ``stages`` (callables item → item) into ``sink`` (item → None).

    A stage returning None drops that item (e.g. a frame that failed a check on purpose).
    """

    def __init__(self, source: Iterable, stages: Sequence[Callable[[Any], Any]], sink: Callable[[Any], None],
                 maxsize: int = 4, drop_oldest: bool = False, name: str = "pipeline"):
        self.stop_event = threading.Event()
        self.channels = [_Channel(maxsize, drop_oldest, self.stop_event) for _ in range(len(stages) + 1)]
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self.finished = threading.Event()
        workers = [("source", lambda: self._source(source, self.channels[0]))]
        for i, fn in enumerate(stages):
            workers.append((getattr(fn, "__name__", f"stage{i}"),
                            lambda fn=fn, i=i: self._stage(fn, self.channels[i], self.channels[i + 1])))
        workers.append(("sink", lambda: self._sink(sink, self.channels[-1])))
        self.threads = [threading.Thread(target=self._guard, args=(fn,), name=f"{name}-{n}", daemon=True)
                        for n, fn in workers]

    # -- workers ------------------------------------------------------------------------------------------
    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except PipelineStopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - any failure stops the pipeline and is re-raised
            with self._lock:
                if self.error is None:
                    self.error = exc
            self.stop_event.set()

    def _source(self, source: Iterable, out: _Channel) -> None:
        for item in source:
            if self.stop_event.is_set():
                raise PipelineStopped
            out.put(item)
        out.put(_END)

    def _stage(self, fn: Callable[[Any], Any], inp: _Channel, out: _Channel) -> None:
        while True:
            item = inp.get()
            if item is _END:
                out.put(_END)
                return
            result = fn(item)
            if result is not None:
                out.put(result)

    def _sink(self, fn: Callable[[Any], None], inp: _Channel) -> None:
        while True:
            item = inp.get()
            if item is _END:
                self.finished.set()
                return
            fn(item)

    # -- control ------------------------------------------------------------------------------------------
    @property
    def dropped(self) -> int:
        return sum(c.dropped for c in self.channels)

    def start(self) -> "Pipeline":
        for t in self.threads:
            t.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def alive(self) -> bool:
        return any(t.is_alive() for t in self.threads)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every thread; re-raise the first worker error. Returns False on timeout."""
        for t in self.threads:
            t.join(timeout)
            if t.is_alive():
                return False
        if self.error is not None:
            raise self.error
        return True

    def run(self) -> bool:
        """Start, wait (interruptibly), re-raise a worker's error. True if the stream ran to its end."""
        self.start()
        try:
            while self.alive():
                for t in self.threads:
                    t.join(0.1)
        except KeyboardInterrupt:
            self.stop()
            for t in self.threads:
                t.join()
            raise
        self.join()
        return self.finished.is_set()
