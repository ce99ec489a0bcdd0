"""Many inputs: expanding files, folders, globs and image sequences into sources, and planning their outputs (names
kept, relative folders kept, existing ones skipped, collisions refused) before the first frame is processed."""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from .composite import Background
from .errors import InputError, OutputError, SettingsError
from .outputs import checked_image_output, checked_output, needs_alpha_channel
from .sequences import IMAGE_EXTENSIONS, is_pattern, numbered_frames
from .writers import png_sequence_files

VIDEO_EXTENSIONS = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mxf", ".mts", ".m2ts", ".ts", ".mpg", ".mpeg",
                    ".wmv", ".flv", ".3gp", ".gif", ".ogv", ".y4m"}
FORMATS = {"video": ("mp4", "mov", "webm", "png"), "image": ("png", "jpg", "tif", "webp")}


@dataclass(frozen=True)
class Source:
    path: Path   # a file, a folder of numbered frames, or a frame pattern
    rel: Path    # its folder relative to the folder or glob it came from ("." for a file given by name)
    stem: str    # the outputs' base name


@dataclass
class Job:
    source: Source
    outputs: list[tuple[str, Path]]  # (output type, target)


@dataclass
class Plan:
    jobs: list[Job]
    skipped: int = 0             # outputs that exist and were left alone (a resumed batch)
    batch: bool = False          # several inputs: failures are counted, not fatal
    notes: list[str] = field(default_factory=list)


def _is_media(path: Path, verb: str) -> bool:
    ext = path.suffix.lower()
    return ext in (VIDEO_EXTENSIONS if verb == "video" else IMAGE_EXTENSIONS)


def _hidden(path: Path, root: Path) -> bool:
    """A hidden file or folder under ``root`` (partial outputs and locks are hidden)."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _sequence_stem(pattern: Path) -> str:
    stem = pattern.name.split("%")[0].rstrip("_-. ")
    return stem or pattern.parent.name or "frames"


def _from_folder(folder: Path, verb: str, recursive: bool, exclude: Path | None) -> list[Source]:
    if verb == "video" and not any(_is_media(p, verb) for p in folder.iterdir()) and numbered_frames(folder):
        return [Source(folder, Path("."), folder.name)]  # a folder of numbered frames is one input
    found = []
    candidates = sorted(folder.rglob("*") if recursive else folder.iterdir())
    for p in candidates:
        if _hidden(p, folder) or (exclude is not None and _under(p, exclude)):
            continue
        if p.is_file() and _is_media(p, verb):
            found.append(Source(p, p.parent.relative_to(folder), p.stem))
        elif recursive and verb == "video" and p.is_dir() and numbered_frames(p) and \
                not any(_is_media(q, verb) for q in p.iterdir()):
            found.append(Source(p, p.parent.relative_to(folder), p.name))
    return found


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def expand_inputs(specs: list[Path], verb: str, recursive: bool = False,
                  exclude: Path | None = None) -> tuple[list[Source], bool]:
    """The sources that ``specs`` name, and whether they make a batch (a folder, a glob, or several). Anything that
    names nothing is an InputError, before any work. ``exclude``: the output folder (never read as input)."""
    sources: list[Source] = []
    batch = len(specs) > 1
    for spec in specs:
        text = str(spec)
        try:
            if verb == "video" and is_pattern(spec):
                sources.append(Source(spec, Path("."), _sequence_stem(spec)))
            elif spec.is_dir():
                found = _from_folder(spec, verb, recursive, exclude)
                if not found:
                    what = "videos or numbered frames" if verb == "video" else "images"
                    raise InputError(f"no {what} in {spec}{'' if recursive else ' (--recursive looks in subfolders)'}")
                batch = batch or found[0].path != spec
                sources.extend(found)
            elif spec.exists():
                sources.append(Source(spec, Path("."), spec.stem))
            elif glob.has_magic(text):
                matches = sorted(glob.glob(text, recursive=recursive))
                parts = spec.parts
                fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
                base = Path(*parts[:fixed]) if fixed else Path(".")  # subfolders are kept below this
                files = [Path(m) for m in matches if Path(m).is_file() and _is_media(Path(m), verb)]
                if not files:
                    raise InputError(f"no {verb} files match {text}")
                sources.extend(Source(f, _relative(f.parent, base), f.stem) for f in files)
                batch = True
            else:
                raise InputError(f"input not found: {spec}")
        except OSError as exc:
            raise InputError(f"cannot read {spec}: {exc.strerror or exc}") from None
    return sources, batch


def _relative(folder: Path, base: Path) -> Path:
    try:
        return folder.relative_to(base)
    except ValueError:
        return Path(".")


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def output_name(source: Source, output_type: str, fmt: str, bg: Background, verb: str) -> str:
    label = "transparent" if bg.transparent and output_type == "composite" else output_type
    if verb == "image":
        return f"{source.stem}_{label}.{fmt or 'png'}"
    if fmt == "png":
        return f"{source.stem}_{label}"  # a folder of frames
    ext = fmt or ("mov" if needs_alpha_channel(output_type, bg) else "mp4")
    return f"{source.stem}_{label}.{ext}"


def plan_outputs(sources: list[Source], batch: bool, out: Path | None, types: list[str], fmt: str | None,
                 bg: Background, overwrite: bool, verb: str) -> Plan:
    """Every output of every source, checked before any work: collisions (two inputs, one output; an input given
    twice; an output that is an input) are refused naming both; in a batch an existing output is skipped."""
    as_folder = batch or len(types) > 1 or (verb == "image" and out is not None and not out.suffix)
    if out is not None and out.is_dir() and not as_folder:
        if out.suffix.lower() in (VIDEO_EXTENSIONS if verb == "video" else IMAGE_EXTENSIONS):
            raise OutputError(f"{out} is a folder, and its name asks for a {out.suffix} file: give -o a file name, "
                              "or a folder name without an extension")
        # an existing folder is used as one, except one that holds a PNG sequence: it gets the new sequence
        as_folder = not (verb == "video" and bool(png_sequence_files(out)))
    if as_folder and out is not None and not out.is_dir():
        if out.suffix:
            raise SettingsError(f"with {'several inputs' if batch else 'several output types'}, -o is a folder "
                                f"(outputs are named IN_TYPE.EXT; --format picks the format), not {out.name}")
        if out.exists():
            raise OutputError(f"{out} exists and is not a folder")
    plan = Plan([], batch=batch)
    seen_inputs: dict[str, Path] = {}
    for src in sources:
        key = _key(src.path)
        if key in seen_inputs:
            raise SettingsError(f"{src.path} is given twice (also as {seen_inputs[key]}): its outputs would collide")
        seen_inputs[key] = src.path
    targets: dict[str, Path] = {}
    for src in sources:
        outputs = []
        for t in types:
            if as_folder or out is None:
                folder = (out / src.rel) if out is not None else src.path.parent  # beside the input
                target = folder / output_name(src, t, fmt, bg, verb)
            else:
                target = out
            key = _key(target)
            if key in targets:
                raise SettingsError(f"{targets[key]} and {src.path} would both write {target}: rename one, or run "
                                    "them separately")
            if key in seen_inputs:
                which = "" if key == _key(src.path) else f" of {seen_inputs[key]}"
                raise OutputError(f"output {target} is the input file{which}: choose another name")
            targets[key] = src.path
            if batch and not overwrite and _exists(target, verb):
                plan.skipped += 1
                continue
            alpha = needs_alpha_channel(t, bg)
            if verb == "image":
                checked_image_output(src.path, target, overwrite, alpha, create=as_folder)
            else:
                checked_output(src.path, target, overwrite, alpha, create_folders=as_folder)
            outputs.append((t, target))
        if outputs:
            plan.jobs.append(Job(src, outputs))
    return plan


def _exists(target: Path, verb: str) -> bool:
    if verb == "video" and not target.suffix:
        return bool(png_sequence_files(target))
    return target.exists()


def make_folders(plan: Plan) -> None:
    for job in plan.jobs:
        for _, target in job.outputs:
            folder = target.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None
