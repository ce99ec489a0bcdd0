"""The shape of the package: no import cycles among livematte's modules, none too long, and the runtime verbs load
neither training nor evaluation code."""
import ast
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from clips import make_clip

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 360  # "about 350"; the Qt window is exempt
LONG_ALLOWED = {"livematte.ui.window"}


def _package_dirs() -> dict[str, Path]:
    """Installed package name -> its folder, as pyproject's package-dir maps them (models/ is livematte.models)."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {name: ROOT / folder for name, folder in setuptools["package-dir"].items()}


def _modules() -> dict[str, Path]:
    """Every module of the installed packages by its installed name."""
    modules = {}
    for package, folder in _package_dirs().items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The livematte modules ``name`` imports anywhere in its code (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # a submodule imported by name
    return {m for m in found if m in modules and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_livematte_modules():
    modules = _modules()
    assert {"livematte.engine", "livematte.models.shm", "livematte.ui.window", "livematte.live.session"} <= set(modules)
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "livematte.onnx_backend" not in graph["livematte.engine"] or \
        "livematte.engine" not in graph["livematte.onnx_backend"]
    assert _cycles(graph) == []


def test_no_module_is_much_over_350_lines_but_the_window():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES and name not in LONG_ALLOWED}
    assert long == {}


# A verb run in a fresh interpreter, which then says which livematte modules it loaded.
LOADED = """
import atexit, sys
atexit.register(lambda: print("LOADED", *sorted(m for m in sys.modules if m.startswith("livematte")), flush=True))
from livematte.cli import main
sys.exit(main(sys.argv[1:]))
"""
TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64"]


def _loaded_by(argv: list[str]) -> set[str]:
    done = subprocess.run([sys.executable, "-c", LOADED, *argv], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    return set(line.split()[1:])


@pytest.mark.slow
def test_video_and_live_load_neither_training_nor_evaluation_code(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", frames=3, rate=Fraction(30))
    runs = {"video": ["video", str(clip), "-o", str(tmp_path / "out.mp4"), "--no-progress", *TINY],
            "live": ["live", "--camera", str(clip), "--frames", "2", "--quiet", *TINY]}
    for verb, argv in runs.items():
        loaded = _loaded_by(argv)
        assert "livematte.engine" in loaded, verb  # it did run the engine
        lab = sorted(m for m in loaded if m.startswith(("livematte.training", "livematte.evaluate")))
        assert lab == [], verb
