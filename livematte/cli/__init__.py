"""``livematte`` command line: one module per verb, each with ``add_parser`` and ``run``."""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from platformdirs import user_log_path

from ..errors import LivematteError

VERBS = ("video", "image", "live", "ui", "bench", "eval", "train")
INTERNAL_ERROR_EXIT = 3  # a bug, not something the user can fix (2) nor an interruption (130)
DEBUG_ENV = "LIVEMATTE_DEBUG"  # set to 1: internal errors raise with their full traceback


_signalled: list[int] = []  # the signals this run received: an import they interrupt fails as an ImportError


def _raise_interrupt(signum, frame):
    _signalled.append(signum)
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="livematte", description="Real-time human matting: cut people out of "
                                     "webcam video and footage.")
    parser.add_argument("--version", action="version", version=f"livematte {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    sub.required = True
    for verb in VERBS:  # a verb module that fails to import is a bug: main() reports it as one
        importlib.import_module(f".{verb}", __name__).add_parser(sub)
    return parser


def save_traceback(exc: BaseException | None = None) -> Path | None:
    """Write ``exc`` (default: the exception being handled), with its traceback, to a new file in the user log
    folder (the temp folder if that fails), for a bug report; None if neither can be written."""
    from .. import __version__

    trace = "".join(traceback.format_exception(exc)) if exc is not None else traceback.format_exc()
    text = f"livematte {__version__}: {' '.join(sys.argv)}\n{trace}"
    for folder in (user_log_path("livematte"), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=time.strftime("livematte-error-%Y%m%d-%H%M%S-"), suffix=".txt",
                                        dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            return Path(name)
        except OSError:
            continue
    return None


class _Tolerant:
    """A text stream whose writes never raise: a full or closed stdout or stderr (``> /dev/full``, a closed pipe)
    loses the messages, never the run."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _run(argv: list[str] | None) -> int:
    # First: SIGTERM and Ctrl-C during start-up end the run as an interruption (130), also where they land in the
    # import of a compiled module, which reports them as a failed import.
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has told the error (2), or shown --help or --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    return int(args.run(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run one command; every exception becomes its exit status here: 2 for what the user can fix, 130 for an
    interruption, 3 for a bug (a verb that fails to import included)."""
    streams = sys.stdout, sys.stderr
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    sys.stdout, sys.stderr = _Tolerant(sys.stdout), _Tolerant(sys.stderr)
    _signalled.clear()
    try:
        return _main(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = streams
        signal.signal(signal.SIGTERM, handlers[0])  # as they were: main() is also called in-process (tests)
        signal.signal(signal.SIGINT, handlers[1])


def entry() -> None:
    """The ``livematte`` command: ``main``, then exit. After an interruption the process ends at once, without the
    interpreter's teardown, where native thread pools (ONNX Runtime's, FFmpeg's) still being torn down could abort it
    ("terminate called without an active exception", exit -6) after the outputs were already finalized."""
    code = main()
    if code == 130:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)


def _main(argv: list[str] | None) -> int:
    try:
        return _run(argv)
    except LivematteError as exc:
        print(f"livematte: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("livematte: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback in a file for the report
        if _signalled:  # the failure is the interruption's (e.g. a compiled module's import it cut short)
            print("livematte: interrupted", file=sys.stderr)
            return 130
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        print(f"livematte: {report_internal_error(exc)}", file=sys.stderr)
        return INTERNAL_ERROR_EXIT


def report_internal_error(exc: BaseException) -> str:
    """Save ``exc``'s traceback and return one line for the user: what failed and where the traceback is."""
    path = save_traceback(exc)
    where = f"traceback in {path}" if path else f"the traceback could not be saved; {DEBUG_ENV}=1 shows it"
    lines = str(exc).strip().splitlines()
    summary = type(exc).__name__ + (f": {lines[0]}" if lines else "")
    return f"internal error: {summary} ({where})"
