"""What ``video`` and ``image`` share: many inputs, several output types, edge controls, workers or Ray, and the
batch's summary and exit status (0 all done, 1 some failed, 2 bad options, 130 interrupted)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import MAX_EDGE_PX
from ..errors import InputError, OutputError, SettingsError
from ..safewrite import check_path
from .argtypes import number_in

MAX_WORKERS = 256
SOME_FAILED_EXIT = 1


def output_types(text: str) -> list[str]:
    """'composite,alpha' -> ['composite', 'alpha'] (each once, in order)."""
    types = list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    from ..composite import OUTPUT_TYPES  # OpenCV: only when -t is given, not for --help

    bad = [t for t in types if t not in OUTPUT_TYPES]
    if not types or bad:
        raise argparse.ArgumentTypeError(f"output types are a comma-separated list of {', '.join(OUTPUT_TYPES)}, "
                                         f"not {text!r}")
    return types


def threshold(text: str) -> float:
    value = number_in(float, 0.0, 0.95)(text)
    if 0 < value < 0.05:
        raise argparse.ArgumentTypeError(f"must be 0 (off) or in 0.05..0.95, not {text}")
    return value


def frame_rate(text: str):
    from ..sequences import parse_fps

    try:
        return parse_fps(text)
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("--fps ", "")) from None


def add_batch_options(p: argparse.ArgumentParser, verb: str) -> None:
    """The options ``video`` and ``image`` share: what to do with existing outputs, progress, and many files."""
    from ..batch import FORMATS

    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    g = p.add_argument_group("many files")
    g.add_argument("--recursive", action="store_true", help="look for inputs in the subfolders of a folder too")
    g.add_argument("--format", choices=FORMATS[verb], default=None,
                   help="the outputs' format when -o is a folder (default: " +
                        ("mp4, or mov when transparent; png: a folder of frames)" if verb == "video" else "png)"))
    if verb == "video":
        g.add_argument("--fps", type=frame_rate, default=None,
                       help="frame rate of an image sequence input (default: 25)")
    g.add_argument("--workers", type=number_in(int, 1, MAX_WORKERS), default=None,
                   help="files converted at once, each with its share of the cores (default: one per two cores, "
                        "at most one per file)")
    g.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                   help="run each file as a task on a Ray cluster: auto (the running one), local (start one here), "
                        "or an address like 10.0.0.5:6379. Needs pip install 'livematte[ray]'")
    g = p.add_argument_group("edges")
    g.add_argument("--feather", type=number_in(int, 0, MAX_EDGE_PX), default=0, help="soften the edge by N px")
    g.add_argument("--shrink", type=number_in(int, 0, MAX_EDGE_PX), default=0, help="pull the edge in by N px")
    g.add_argument("--threshold", type=threshold, default=0.0, help="hard cut at this alpha (0.05..0.95; 0 = off)")


def run_many(args, verb: str, types: list[str], engine, single) -> int:
    """Plan every output before any work, then run the single file as before (``single``) or the batch."""
    from ..batch import expand_inputs, make_folders, plan_outputs
    from ..outputs import Edges
    from ..workers import JobSettings

    if args.ray is not None and args.workers is not None:
        raise SettingsError("--workers and --ray: choose one (Ray sizes its workers by the cluster's cores)")
    if args.ray is not None:
        from ..rayrun import check_ray

        check_ray()
    out = args.output
    for path in args.inputs:
        check_path(path, "input", InputError)
    if out is not None:
        check_path(out, "output")
    exclude = out if out is not None and not out.suffix else None
    from ..composite import parse_background

    bg = parse_background(args.background)
    try:
        sources, batch = expand_inputs(args.inputs, verb, args.recursive, exclude)
        plan = plan_outputs(sources, batch, out, types, args.format, bg, args.overwrite, verb)
    except OSError as exc:  # what the file system refuses to look at, before any work
        raise OutputError(f"cannot use {exc.filename}: {exc.strerror or exc}") from None
    finally:
        bg.close()
    edges = Edges(args.shrink, args.feather, args.threshold)
    if (batch or args.ray is not None) and getattr(args, "plate", None) is not None:
        # a plate belongs to one camera and framing: one take at a time
        raise SettingsError("--plate works with one input at a time: run each take with its own plate")
    make_folders(plan)
    if not batch and args.ray is None:
        return single(plan.jobs[0], edges)
    background = args.background
    if background and Path(background).is_file():  # a worker process or Ray node may run in another folder
        background = str(Path(background).absolute())
    if engine.weights not in (None, "default") and Path(engine.weights).is_file():
        engine = engine.replace(weights=str(Path(engine.weights).absolute()))
    settings = JobSettings(verb, engine, background, edges, getattr(args, "fps", None), args.overwrite,
                           foreign_stale=args.ray is not None)
    return run_batch(plan, settings, args, verb)


def run_batch(plan, settings, args, verb: str) -> int:
    from ..progress import BatchProgress
    from ..workers import default_workers, run_here, run_processes

    jobs = plan.jobs
    skipped = f"; skipped {plan.skipped} existing (--overwrite replaces them)" if plan.skipped else ""
    if not jobs:
        print(f"livematte: nothing to do{skipped}", file=sys.stderr)
        return 0
    if settings.engine.weights is None:
        print("livematte: warning: running on random weights (--weights none); the mattes will be meaningless",
              file=sys.stderr)
    workers = args.workers or default_workers(len(jobs))
    where = f"Ray ({args.ray})" if args.ray else f"{min(workers, len(jobs))} worker(s)"
    print(f"livematte: {len(jobs)} file(s) to do on {where}{skipped}", file=sys.stderr)
    names = [str(job.source.path) for job in jobs]
    progress = BatchProgress(names, enabled=not args.no_progress)
    outcomes = {}

    def on_event(event):
        if event[0] == "done":
            outcomes[event[1].index] = event[1]
        progress.event(event)

    interrupted = False
    try:
        if args.ray is not None:
            from ..rayrun import run_ray

            run_ray(jobs, settings, args.ray, on_event)
        elif workers == 1:
            run_here(jobs, settings, on_event)
        else:
            run_processes(jobs, settings, workers, on_event)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
    return summarize(jobs, outcomes, plan.skipped, interrupted)


def summarize(jobs, outcomes, skipped: int, interrupted: bool) -> int:
    done = [o for o in outcomes.values() if o.ok]
    failed = sorted((o for o in outcomes.values() if not o.ok), key=lambda o: o.index)
    for o in sorted(done, key=lambda o: o.index):
        for note in o.notes:
            print(f"livematte: note: {jobs[o.index].source.path}: {note}", file=sys.stderr)
        for _, target in jobs[o.index].outputs:
            print(f"wrote {target}")
    left = len(jobs) - len(outcomes)
    parts = [f"{len(done)} done"] + ([f"skipped {skipped} existing"] if skipped else []) + \
            ([f"{len(failed)} failed"] if failed else []) + ([f"{left} not done (interrupted)"] if left else [])
    print(f"livematte: {', '.join(parts)}", file=sys.stderr)
    for o in failed:
        print(f"livematte: failed: {jobs[o.index].source.path}: {o.message}", file=sys.stderr)
    if interrupted:
        print("livematte: interrupted; run the same command again to do the rest", file=sys.stderr)
        return 130
    return SOME_FAILED_EXIT if failed else 0
