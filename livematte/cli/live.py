"""``livematte live``: webcam → matte → composite → virtual camera, headless, until Ctrl-C."""
from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import QUALITIES, EngineConfig, parse_smoothing
from ..errors import SettingsError
from ..live.frames import DEFAULT_FPS, DEFAULT_SIZE
from ..presets import PresetStore, Settings
from .common import add_engine_options, apply_engine_options, make_matter
from .plates import capture_plate, read_plate, save_plate

if TYPE_CHECKING:
    from ..engine import Matter

HELP = """Ctrl-C (or SIGTERM) is the normal way to stop: the threads stop, the devices are released and the
exit status is 0. Without --virtual-cam nothing is sent anywhere: the status line shows what the
pipeline would deliver (handy to measure a machine). A video file as --camera loops as a fake camera.
A transparent background is sent to the virtual camera as the person over pure green (0,255,0), for a
chroma key in OBS."""


def add_parser(sub) -> None:
    p = sub.add_parser("live", help="webcam to virtual camera, headless", description=__doc__, epilog=HELP)
    add_live_options(p)
    p.add_argument("--frames", type=int, default=None, help="stop after N new frames (tests, demos)")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--quiet", action="store_true", help="no status line")
    p.set_defaults(run=run)


def add_live_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``live`` and ``ui``: source, virtual camera, look (over a preset), model."""
    g = p.add_argument_group("camera and virtual camera")
    g.add_argument("--camera", default="0", help="camera index (0, 1, ...) or a video file to loop as a fake "
                                                 "camera (default: 0)")
    g.add_argument("--size", default=None, help=f"WxH to ask the camera for (default: {DEFAULT_SIZE[0]}x"
                                                f"{DEFAULT_SIZE[1]}; a video file keeps its own size unless given)")
    g.add_argument("--fps", type=float, default=None, help="frame rate to ask for and to send at (default: what "
                                                           f"the camera gives, {DEFAULT_FPS:g} if it does not say)")
    g.add_argument("--virtual-cam", action="store_true", help="send the result to the virtual camera")
    g.add_argument("--vcam-backend", default=None, help="pyvirtualcam backend (default: the first that works)")
    g.add_argument("--vcam-device", default=None, help="virtual camera device, e.g. /dev/video10")
    g.add_argument("--always-on", action="store_true",
                   help="keep matting when no app has the virtual camera open (default on Linux: pause, and after "
                        "10 s release the webcam, until an app opens it)")
    g = p.add_argument_group("look (each option given overrides the preset)")
    g.add_argument("--preset", default=None, help="a saved or built-in preset (see --list-presets)")
    g.add_argument("--list-presets", action="store_true", help="list the presets and where they are stored, then exit")
    g.add_argument("-b", "--background", default=None,
                   help="colour (green, #00ff00, 0,255,0), image or video file, blur[:N], transparent, none "
                        "(default: blur)")
    g.add_argument("--mirror", action="store_const", const=True, default=None, help="flip left-right")
    g.add_argument("--quality", choices=QUALITIES, default=None,
                   help="working resolution: fast, balanced or high (default: balanced)")
    g.add_argument("--smoothing", default=None, help="none, ema[:S] or motion[:S] (default: motion:0.6)")
    g.add_argument("--feather", type=int, default=None, help="soften the edge by N px (0..20)")
    g.add_argument("--shrink", type=int, default=None, help="pull the edge in by N px (0..20)")
    g.add_argument("--threshold", type=float, default=None, help="hard cut at this alpha (0.05..0.95; 0 = off)")
    g.add_argument("--plate", metavar="FILE|capture|none", default=None,
                   help="clean-plate mode: an image of the empty background from this camera, or capture (live: a "
                        "countdown, then a second of frames; the window has a button), or none; over the preset's. "
                        "Needs trained plate weights (README: Clean plate)")
    # --smoothing is a look option (above); the model and sizes come from --quality
    add_engine_options(p, EngineConfig.live(), smoothing=False, by_quality=True)


def list_presets(store: PresetStore) -> None:
    presets = store.load()
    print(f"presets (user presets in {store.directory}):")
    for p in presets:
        print(f"  {p.name}{'  (built-in)' if p.builtin else ''}: background {p.settings.background_spec()}")
    for problem in store.problems:
        print(f"livematte: warning: {problem} (skipped)", file=sys.stderr)


def settings_from_args(args, store: PresetStore) -> Settings:
    """The preset (or the defaults), then every look option given on the command line."""
    settings = store.get(args.preset) if args.preset else Settings()
    for problem in store.problems:
        print(f"livematte: warning: {problem} (skipped)", file=sys.stderr)
    changes = {k: getattr(args, k) for k in ("mirror", "quality", "feather", "shrink", "threshold")
               if getattr(args, k) is not None}
    if args.smoothing is not None:
        changes["smoothing"], changes["smoothing_strength"] = parse_smoothing(args.smoothing)
    if args.plate is not None and args.plate != "capture":
        changes["plate"] = "" if args.plate == "none" else str(Path(args.plate).expanduser().resolve())
    settings = replace(settings, **changes)
    if args.background is not None:
        settings = settings.with_background(args.background)
    return settings


def parse_rate(fps: float | None) -> float | None:
    if fps is not None and not 1 <= fps <= 240:
        raise SettingsError(f"--fps must be 1..240, not {fps:g}")
    return fps


def live_engine_config(args, settings: Settings) -> EngineConfig:
    """The live engine at ``settings``' quality and smoothing, with the engine options given (--tnet-size and
    --mnet-size hold until the quality changes; --model or --weights pin the model)."""
    config = apply_engine_options(args, EngineConfig.live(settings.quality))
    return config.replace(smoothing=settings.smoothing, smoothing_strength=settings.smoothing_strength)


def make_live_matter(args, settings: Settings) -> Matter:
    """The live engine, with the settings' plate set: a plate that cannot be used stops here, with its reason."""
    matter = make_matter(live_engine_config(args, settings))
    if settings.plate:
        plate = read_plate(settings.plate)
        matter.set_plate(plate[:, ::-1].copy() if settings.mirror else plate)  # plates are kept as the camera sees
    return matter


def captured_plate_settings(source, matter: Matter, settings: Settings) -> Settings:
    """``--plate capture``: the plate taken now, saved beside the presets, in the settings."""
    from ..presets import config_dir

    matter.set_plate(None)  # a preset's plate must not hide the person from the check
    plate = capture_plate(source, matter)
    path = save_plate(plate, config_dir() / "plates")
    print(f"live: plate saved to {path} (use it again with --plate {path})", file=sys.stderr)
    matter.set_plate(plate[:, ::-1].copy() if settings.mirror else plate)
    return replace(settings, plate=str(path))


def open_virtual_camera(args, width: int, height: int, fps: float):
    from ..virtualcam import VirtualCamera

    return VirtualCamera(width, height, fps, backend=args.vcam_backend, device=args.vcam_device)


def run(args) -> int:
    from ..live.frames import parse_size
    from ..live.session import LiveSession
    from ..live.sources import open_source
    from ..live.stats import format_status

    store = PresetStore()
    if args.list_presets:
        list_presets(store)
        return 0
    size = parse_size(args.size) if args.size else None
    fps = parse_rate(args.fps)
    if args.frames is not None and args.frames < 1 or args.duration is not None and args.duration <= 0:
        raise SettingsError("--frames and --duration must be positive")
    settings = settings_from_args(args, store)
    with ExitStack() as stack:
        source = open_source(args.camera, size, fps)
        stack.callback(source.close)
        out_fps = fps or source.fps
        sink = None
        if args.virtual_cam:
            sink = open_virtual_camera(args, source.width, source.height, out_fps)
            stack.callback(sink.close)
        matter = make_live_matter(args, settings)
        if args.plate == "capture":
            settings = captured_plate_settings(source, matter, settings)
        print(f"live: {source.name} at {source.width}x{source.height} {source.fps:g} fps → "
              f"{'virtual camera ' + sink.device if sink else 'no output (add --virtual-cam)'} at {out_fps:g} fps; "
              f"background {settings.background_spec()}; Ctrl-C stops", file=sys.stderr)
        demand = None
        if sink is not None and not args.always_on:
            from ..live.demand import for_device

            demand = for_device(sink.device)  # where viewers cannot be counted, it always says "watched"
        session = LiveSession(source, matter, settings, sink=sink, fps=out_fps, demand=demand)
        tty = sys.stderr.isatty()

        def show(status):
            if not args.quiet:
                line = "live: " + format_status(status)
                # On a terminal one line is rewritten in place; padded, so a shorter line leaves no tail.
                print(f"\r{line:<110}" if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

        interrupted = False
        try:
            status = session.run(frames=args.frames, duration=args.duration, on_status=show)
        except KeyboardInterrupt:  # the normal way to stop live: a clean stop, status 0
            interrupted = True
            status = session.status()
        if tty and not args.quiet:
            print(file=sys.stderr)
    print(f"live: {'stopped' if interrupted else 'done'}: {status.frames} new frames, {status.resent} repeats, "
          f"{status.dropped} dropped; last {status.fps:.1f} fps new, latency {status.latency_ms:.0f} ms")
    return 0
