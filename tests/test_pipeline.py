"""The threaded pipeline: lossless ordering, drop-oldest, error propagation, clean stop."""
import random
import threading
import time

import pytest

from livematte.pipeline import Pipeline


def _jitter(fn):
    rng = random.Random(0)

    def stage(x):
        time.sleep(rng.random() * 0.002)
        return fn(x)
    return stage


def test_lossless_pipeline_keeps_every_item_in_order():
    out = []
    p = Pipeline(range(500), [_jitter(lambda x: x * 2), _jitter(lambda x: x + 1)], out.append, maxsize=2)
    assert p.run() is True
    assert out == [x * 2 + 1 for x in range(500)]
    assert p.dropped == 0 and not p.alive()


def test_worker_error_is_reraised_and_all_threads_stop():
    def boom(x):
        if x == 7:
            raise ValueError("bad frame 7")
        return x

    before = threading.active_count()
    p = Pipeline(iter(range(10_000)), [boom], lambda x: None, maxsize=2)
    with pytest.raises(ValueError, match="bad frame 7"):
        p.run()
    assert not p.alive() and threading.active_count() == before


def test_source_and_sink_errors_propagate():
    def source():
        yield 1
        raise OSError("camera unplugged")

    with pytest.raises(OSError, match="camera unplugged"):
        Pipeline(source(), [], lambda x: None).run()

    def sink(x):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        Pipeline(range(5), [], sink).run()


def test_stop_ends_an_endless_source_cleanly():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    seen = []
    p = Pipeline(endless(), [lambda x: x], seen.append, maxsize=2).start()
    time.sleep(0.1)
    p.stop()
    assert p.join(timeout=2.0) is True
    assert not p.alive() and len(seen) > 0
    assert seen == list(range(len(seen)))


def test_drop_oldest_keeps_latest_items_under_a_slow_stage():
    def slow(x):
        time.sleep(0.01)
        return x

    def source():
        for i in range(200):
            time.sleep(0.001)
            yield i

    out = []
    p = Pipeline(source(), [slow], out.append, maxsize=2, drop_oldest=True)
    p.run()
    assert p.dropped > 0 and len(out) + p.dropped == 200
    assert out == sorted(out) and out[-1] >= 195  # newest frames still arrive, in order


def test_stage_returning_none_drops_the_item():
    out = []
    Pipeline(range(10), [lambda x: x if x % 2 else None], out.append).run()
    assert out == [1, 3, 5, 7, 9]
