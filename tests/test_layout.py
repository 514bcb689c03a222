"""The package's layout: imports run one way, down the stages, without cycles, and the runtime package needs
only what requirements.txt installs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ecgcrnn"
STAGES = (
    "domain",
    "io",
    "scoring",
    "signal",
    "delineation",
    "features",
    "pipeline",
    "data",
    "model",
    "inference",
    "training",
    "app",
    "synthetic",
)
"""The subpackages (and the two top-level modules) in the order of ecgcrnn/__init__.py's docstring."""
# Import names of the distributions in requirements.txt that differ from their names there.
IMPORT_NAMES = {"pywavelets": "pywt", "scikit-learn": "sklearn", "iterative-stratification": "iterstrat"}


def _modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _imports(path: Path) -> set[str]:
    """Every module name imported anywhere in the file (at module level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import of {node.module}"
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "ecgcrnn" and len(parts) > 1 else None


def test_every_subpackage_is_a_known_stage():
    found = {path.name.removesuffix(".py") for path in PACKAGE.iterdir() if not path.name.startswith("_")}
    assert found - {"weights.csv", "__pycache__"} == set(STAGES)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_imports_run_down_the_stages(module):
    # The package itself and its entry point (ecgcrnn.__main__, the ecgcrnn command) sit above every stage
    own = STAGES.index(_stage(module)) if _stage(module) in STAGES else len(STAGES)
    for imported in _imports(_modules()[module]):
        stage = _stage(imported)
        if stage in STAGES:
            assert STAGES.index(stage) <= own, f"{module} imports {imported}, a later stage"


def test_no_import_cycles_between_modules():
    modules = _modules()
    graph = {
        name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()
    }
    state: dict[str, int] = {}

    def visit(name, trail):
        state[name] = 1
        for target in graph[name]:
            assert state.get(target) != 1, "import cycle: " + " -> ".join([*trail, name, target])
            if target not in state:
                visit(target, [*trail, name])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [])


def test_the_runtime_package_imports_only_what_requirements_txt_installs():
    required = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name = re.split(r"[=<>\[ ;#]", line.strip(), maxsplit=1)[0].lower()
        if name:
            required.add(IMPORT_NAMES.get(name, name.replace("-", "_")))
    required |= {"keras"}  # installed by tensorflow, which pins it
    import sys

    standard = set(sys.stdlib_module_names) | {"ecgcrnn"}
    for module, path in _modules().items():
        for imported in _imports(path):
            top = imported.split(".")[0]
            assert top in standard or top in required, f"{module} imports {imported}, not in requirements.txt"
