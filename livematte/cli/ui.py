"""``livematte ui``: the control window: live preview, backgrounds, presets, virtual camera."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from ..errors import DeviceError, SettingsError
from ..presets import PresetStore
from .live import add_live_options, make_live_matter, parse_rate, settings_from_args

HELP = """The window previews the result and sends it to the virtual camera when you press Start virtual
camera (or with --virtual-cam). Presets saved in the window are usable with livematte live --preset."""


def add_parser(sub) -> None:
    p = sub.add_parser("ui", help="the control window", description=__doc__, epilog=HELP)
    add_live_options(p)
    p.add_argument("--screenshot", type=Path, default=None,
                   help="save a screenshot of the window once --frames frames were shown, then quit")
    p.add_argument("--frames", type=int, default=30, help="frames to show before --screenshot (default: 30)")
    p.set_defaults(run=run)


def _check_display() -> None:
    """Qt aborts the process when it finds no display; say so clearly instead."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DeviceError("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); run it on a "
                          "desktop, or set QT_QPA_PLATFORM=offscreen with --screenshot")


def run(args) -> int:
    from ..live.frames import parse_size

    size = parse_size(args.size) if args.size else None
    fps = parse_rate(args.fps)
    if args.frames < 1:
        raise SettingsError("--frames must be positive")
    if args.plate == "capture":
        raise SettingsError("ui: capture the plate with the window's Capture background button (--plate FILE here)")
    store = PresetStore()
    settings = settings_from_args(args, store)
    preset = store.find(args.preset).name if args.preset else None
    _check_display()
    from PyQt5 import QtCore, QtWidgets

    from livematte.ui.window import LiveWindow

    matter = make_live_matter(args, settings)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])

    def open_vcam(width, height, frame_rate):
        from .live import open_virtual_camera

        return open_virtual_camera(args, width, height, frame_rate)

    window = LiveWindow(matter, camera=args.camera, size=size, fps=fps, settings=settings, preset=preset,
                        store=store, open_virtual_camera=open_vcam, always_on=args.always_on)
    window.show()
    if args.virtual_cam:
        window.start_virtual_camera()
    if args.screenshot is not None:
        return _screenshot_and_quit(app, window, args.screenshot, args.frames)
    # Ctrl-C / SIGTERM: quit the event loop, then shut down cleanly below. Raising inside the loop (the CLI's
    # default) would surface in a Qt slot, where PyQt5 aborts the process with the camera still held.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    previous_hook, sys.excepthook = sys.excepthook, keep_running_hook(window)
    # Said once the event loop runs: from then on Ctrl-C closes the window cleanly (scripts and tests wait for it).
    QtCore.QTimer.singleShot(0, lambda: print("ui: window open; close it or press Ctrl-C to stop", flush=True))
    try:
        return app.exec_()
    finally:
        sys.excepthook = previous_hook
        window.shutdown()


def keep_running_hook(window):
    """An exception hook for the event loop. With Python's default hook, PyQt5 aborts the whole process on an
    exception escaping a Qt slot (a bug), taking the camera and the virtual camera down with it; this one saves
    the traceback, says so on stderr and in the window, and lets the window go on."""
    from . import DEBUG_ENV, report_internal_error

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt) or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            sys.__excepthook__(exc_type, exc, tb)
            return
        line = report_internal_error(exc.with_traceback(tb))
        print(f"livematte: {line}", file=sys.stderr)
        window.show_notice(line, error=True)

    return hook


def _screenshot_and_quit(app, window, path: Path, frames: int, timeout: float = 60.0) -> int:
    """Run the window until it has shown ``frames`` frames (or the pipeline stopped), save it, quit."""
    import time

    from ..errors import OutputError

    deadline = time.monotonic() + timeout
    try:
        while window.frames_shown < frames and window.session is not None and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)
        window.update_readout()
        app.processEvents()
        if not window.grab().save(str(path)):
            raise OutputError(f"cannot save the screenshot to {path}")
    finally:
        window.shutdown()
    print(f"wrote {path} after {window.frames_shown} frames")
    return 0
