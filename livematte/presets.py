"""Live settings and presets.

``Settings`` is the immutable snapshot the live pipeline reads once per frame: the window (or the CLI)
makes a new one for every change and hands it over, so no lock is needed and a frame never mixes two
settings. A preset is a named ``Settings``, stored as one small TOML file per preset in
``<config dir>/presets/`` (``platformdirs.user_config_dir("livematte")``, or ``$LIVEMATTE_CONFIG_DIR``).
A preset describes the look (background, matte, edges, quality, mirror), not the devices: the camera and
the virtual camera stay what the user chose, so a preset works on any machine.

A preset file looks like::

    name = "Office blur"
    background = "blur"   # none, colour, image, video, blur or transparent
    blur = 18
    smoothing = "motion"
    smoothing_strength = 0.6
    feather = 2

Missing keys take their defaults; a file that does not parse, or holds a bad value, is reported by name
and skipped, and the other presets still load.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
    import tomli as tomllib

from .composite import VIDEO_EXTENSIONS, parse_background, parse_colour
from .config import DEFAULT_QUALITY, QUALITIES
from .config import MAX_EDGE_PX
from .errors import SettingsError
from .config import MAX_STRENGTH, SMOOTHING_MODES

BACKGROUND_KINDS = ("none", "colour", "image", "video", "blur", "transparent")
CONFIG_ENV = "LIVEMATTE_CONFIG_DIR"
MAX_NAME = 60


@dataclass(frozen=True)
class Settings:
    """Everything the live picture depends on; validated on construction (and on every ``replace``)."""

    background: str = "blur"          # one of BACKGROUND_KINDS
    colour: str = "#00b140"           # for background "colour": a name, #rrggbb or r,g,b
    image: str = ""                   # for background "image": a file
    video: str = ""                   # for background "video": a file, looped
    blur: int = 12                    # for background "blur": 1..100
    smoothing: str = "motion"         # temporal smoothing of the matte: none, ema or motion
    smoothing_strength: float = 0.6   # 0..MAX_STRENGTH
    feather: int = 0                  # px of edge softening, 0..MAX_EDGE_PX
    shrink: int = 0                   # px of edge erosion, 0..MAX_EDGE_PX
    threshold: float = 0.0            # hard cut at this alpha; 0 = off, else 0.05..0.95
    quality: str = DEFAULT_QUALITY    # working resolution: one of livematte.config.QUALITIES
    mirror: bool = False              # flip left-right, as a selfie view
    plate: str = ""                   # clean plate: a PNG of the empty background, as the camera sees it; "": off

    def __post_init__(self):
        for name in ("smoothing_strength", "threshold"):  # TOML and sliders give 0 for 0.0
            value = getattr(self, name)
            if isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))
        problems = _problems(self)
        if problems:
            raise SettingsError(problems[0])

    def background_spec(self) -> str:
        """The background as a spec for ``composite.parse_background``."""
        return {"none": "none", "colour": self.colour, "image": self.image, "video": self.video,
                "blur": f"blur:{self.blur}", "transparent": "transparent"}[self.background]

    def with_background(self, spec: str) -> "Settings":
        """These settings with the background given as a spec (``green``, ``blur:20``, a file, ...).

        The spec is checked by opening it (an image or video file must be readable)."""
        bg = parse_background(spec)
        try:
            if bg.kind == "colour":
                return replace(self, background="colour", colour=spec.strip())
            if bg.kind in ("image", "video"):
                return replace(self, background=bg.kind, **{bg.kind: str(bg.path.resolve())})
            if bg.kind == "blur":
                return replace(self, background="blur", blur=bg.strength)
            return replace(self, background=bg.kind)
        finally:
            bg.close()


def _problems(s: Settings) -> list[str]:
    """What is wrong with these settings, as messages a user can act on (empty when all is well)."""
    types = {"background": str, "colour": str, "image": str, "video": str, "blur": int, "smoothing": str,
             "smoothing_strength": float, "feather": int, "shrink": int, "threshold": float, "quality": str,
             "mirror": bool, "plate": str}
    described = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}
    for name, kind in types.items():
        value = getattr(s, name)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            return [f"{name} must be {described[kind]}, not {value!r}"]
    problems = []
    if s.background not in BACKGROUND_KINDS:
        problems.append(f"background must be one of {', '.join(BACKGROUND_KINDS)}, not {s.background!r}")
    if parse_colour(s.colour) is None:
        problems.append(f"colour {s.colour!r} is not a colour name, #rrggbb or r,g,b")
    if s.background in ("image", "video") and not getattr(s, s.background):
        problems.append(f"background {s.background} needs a file")
    if s.background == "video" and s.video and Path(s.video).suffix.lower() not in VIDEO_EXTENSIONS:
        problems.append(f"background video {s.video} is not a video file ({', '.join(sorted(VIDEO_EXTENSIONS))})")
    if not 1 <= s.blur <= 100:
        problems.append(f"blur must be 1..100, not {s.blur}")
    if s.smoothing not in SMOOTHING_MODES:
        problems.append(f"smoothing must be one of {', '.join(SMOOTHING_MODES)}, not {s.smoothing!r}")
    if not 0.0 <= s.smoothing_strength <= MAX_STRENGTH:
        problems.append(f"smoothing_strength must be 0..{MAX_STRENGTH}, not {s.smoothing_strength}")
    for name in ("feather", "shrink"):
        if not 0 <= getattr(s, name) <= MAX_EDGE_PX:
            problems.append(f"{name} must be 0..{MAX_EDGE_PX} px, not {getattr(s, name)}")
    if s.threshold != 0.0 and not 0.05 <= s.threshold <= 0.95:
        problems.append(f"threshold must be 0 (off) or 0.05..0.95, not {s.threshold}")
    if s.quality not in QUALITIES:
        problems.append(f"quality must be one of {', '.join(QUALITIES)}, not {s.quality!r}")
    return problems


# -- presets ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    name: str
    settings: Settings
    builtin: bool = False
    path: Path | None = field(default=None, compare=False)


BUILTIN_PRESETS = (
    Preset("Office blur", Settings(background="blur", blur=18, smoothing="motion", smoothing_strength=0.6,
                                   feather=2), builtin=True),
    Preset("Green screen", Settings(background="colour", colour="#00b140", smoothing="motion", feather=1,
                                    shrink=1), builtin=True),
    # A virtual camera has no alpha channel: "transparent" sends the person over pure green, which OBS's
    # Chroma Key filter (default: green) removes; the window's preview shows a checkerboard.
    Preset("Transparent for OBS", Settings(background="transparent", smoothing="motion", feather=1, shrink=1),
           builtin=True),
    Preset("Original (check the matte)", Settings(background="none", smoothing="none"), builtin=True),
)


def config_dir() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("livematte"))


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise SettingsError("a preset needs a name")
    if len(name) > MAX_NAME or any(c in name for c in "\r\n\t"):
        raise SettingsError(f"a preset name is one line of at most {MAX_NAME} characters")
    return name


def _toml_string(text: str) -> str:
    """A TOML basic string: quote, backslash and control characters escaped, the rest kept as is."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return _toml_string(str(value))


def preset_to_toml(name: str, settings: Settings) -> str:
    """A flat TOML document: the name, then every setting (simple values, so no writer library is needed)."""
    lines = ["# livematte preset", f"name = {_toml_string(name)}"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in asdict(settings).items()]
    return "\n".join(lines) + "\n"


def preset_from_toml(text: str, source: str = "preset") -> tuple[str, Settings]:
    """Parse a preset document; raise SettingsError saying what is wrong with ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source} is not valid TOML: {exc}") from None
    name = data.pop("name", None)
    if not isinstance(name, str):
        raise SettingsError(f"{source} has no name = \"...\" line")
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"{source}: unknown setting(s) {', '.join(unknown)}")
    try:
        return check_name(name), Settings(**data)
    except SettingsError as exc:
        raise SettingsError(f"{source}: {exc}") from None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "preset"


class PresetStore:
    """Built-in presets plus the user's, one TOML file each in ``directory`` (default: the config dir)."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory is not None else config_dir() / "presets"
        self.problems: list[str] = []  # malformed files skipped by the last load(), one message each
        self._bad_files: dict[str, str] = {}  # file stem -> message, to explain a --preset that names one

    def load(self) -> list[Preset]:
        """All presets, built-ins first then the user's by name; malformed files go to ``problems``."""
        self.problems, self._bad_files = [], {}
        user: dict[str, Preset] = {}
        builtin_names = {p.name.lower() for p in BUILTIN_PRESETS}
        files = sorted(self.directory.glob("*.toml")) if self.directory.is_dir() else []
        for path in files:
            try:
                name, settings = preset_from_toml(path.read_text(encoding="utf-8"), f"preset file {path}")
            except (OSError, UnicodeDecodeError) as exc:
                self._skip(path, f"preset file {path} cannot be read: {exc}")
                continue
            except SettingsError as exc:
                self._skip(path, str(exc))
                continue
            if name.lower() in builtin_names or name.lower() in user:
                self._skip(path, f"preset file {path}: the name {name!r} is already taken")
                continue
            if settings.plate and not Path(settings.plate).is_absolute():  # a plate beside the file
                settings = replace(settings, plate=str(self.directory / settings.plate))
            user[name.lower()] = Preset(name, settings, path=path)
        return list(BUILTIN_PRESETS) + sorted(user.values(), key=lambda p: p.name.lower())

    def _skip(self, path: Path, message: str) -> None:
        self.problems.append(message)
        self._bad_files[path.stem] = message

    def names(self) -> list[str]:
        return [p.name for p in self.load()]

    def find(self, name: str) -> Preset:
        """The preset called ``name`` (any case); SettingsError listing the others when there is none."""
        presets = self.load()
        for p in presets:
            if p.name.lower() == name.strip().lower():
                return p
        if _slug(name) in self._bad_files:
            raise SettingsError(self._bad_files[_slug(name)])
        raise SettingsError(f"no preset named {name!r}; presets: {', '.join(p.name for p in presets)}")

    def get(self, name: str) -> Settings:
        return self.find(name).settings

    def save(self, name: str, settings: Settings) -> Preset:
        """Create or replace the user preset ``name``; a built-in cannot be replaced."""
        name = check_name(name)
        existing = self._user_preset(name)
        if existing is None and name.lower() in {p.name.lower() for p in BUILTIN_PRESETS}:
            raise SettingsError(f"{name!r} is a built-in preset: save under another name")
        path = existing.path if existing is not None else self._free_path(name)
        settings = self._keep_plate(settings, path)
        self._write(path, preset_to_toml(name, settings))
        return Preset(name, settings, path=path)

    def _keep_plate(self, settings: Settings, path: Path) -> Settings:
        """The settings with their plate copied beside the preset's file (``NAME.plate.png``), so that it lasts."""
        target = path.with_suffix(".plate.png")
        if not settings.plate or Path(settings.plate) == target:
            return settings
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(settings.plate, target)
        except OSError as exc:
            raise SettingsError(f"cannot keep the plate {settings.plate} with the preset: {exc.strerror or exc}")
        return replace(settings, plate=str(target))

    def rename(self, old: str, new: str) -> Preset:
        preset = self._user_preset(old)
        if preset is None:
            raise SettingsError(f"no user preset named {old!r} (built-in presets cannot be renamed)")
        new = check_name(new)
        taken = {p.name.lower() for p in self.load()} - {preset.name.lower()}
        if new.lower() in taken:
            raise SettingsError(f"a preset named {new!r} already exists")
        path = self._free_path(new, keep=preset.path)
        self._write(path, preset_to_toml(new, preset.settings))
        if path != preset.path:
            _remove(preset.path)
        return Preset(new, preset.settings, path=path)

    def delete(self, name: str) -> None:
        preset = self._user_preset(name)
        if preset is None:
            raise SettingsError(f"no user preset named {name!r} (built-in presets cannot be deleted)")
        _remove(preset.path)
        if preset.settings.plate == str(preset.path.with_suffix(".plate.png")):
            _remove(preset.path.with_suffix(".plate.png"))

    # -- files ------------------------------------------------------------------------------------------------
    def _user_preset(self, name: str) -> Preset | None:
        for p in self.load():
            if not p.builtin and p.name.lower() == name.strip().lower():
                return p
        return None

    def _free_path(self, name: str, keep: Path | None = None) -> Path:
        """``<slug>.toml``, or ``<slug>-2.toml`` ... when another file already has that name."""
        slug, n = _slug(name), 1
        while True:
            path = self.directory / (f"{slug}.toml" if n == 1 else f"{slug}-{n}.toml")
            if not path.exists() or path == keep:
                return path
            n += 1

    def _write(self, path: Path, text: str) -> None:
        """Write beside the target and move into place, so a crash never leaves half a preset."""
        temp = path.with_name(f".{path.name}.partial")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temp.write_text(text, encoding="utf-8")
            os.replace(temp, path)
        except OSError as exc:
            _remove(temp)
            raise SettingsError(f"cannot save preset to {path}: {exc.strerror or exc}") from None


def _remove(path: Path) -> None:
    """Delete a file; SettingsError if it exists and cannot be deleted."""
    try:
        path.unlink(missing_ok=True)
    except NotADirectoryError:
        pass  # its folder is not a folder: the file cannot exist
    except OSError as exc:
        raise SettingsError(f"cannot delete {path}: {exc.strerror or exc}") from None

