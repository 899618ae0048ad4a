"""The layers of docs/design.md, checked from every module's imports: a module imports
only from its own layer or below, and a transform never imports another transform."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS = {
    "base": ["dockfix.lazy", "dockfix.syntax", "dockfix.shell", "dockfix.expand", "dockfix.fileio", "dockfix.diff", "dockfix.pages",
             "dockfix.data", "dockfix.split.images", "dockfix.split.debian_runtime", "dockfix.split"],
    "model": ["dockfix.commands", "dockfix.model", "dockfix.views", "dockfix.edits", "dockfix.diagnostics",
              "dockfix.pragmas", "dockfix.context", "dockfix.manifests", "dockfix.facts", "dockfix.config", "dockfix.discover"],
    "engine": ["dockfix.engine", "dockfix.ci_engine"],
    "analyses": ["dockfix.transforms._installs", "dockfix.transforms._reads", "dockfix.transforms._ci", "dockfix.split.classify",
                 "dockfix.split.between",
                 "dockfix.split.dependencies", "dockfix.split.equivalence", "dockfix.split.programs",
                 "dockfix.split.uv_project", "dockfix.split.pipx", "dockfix.split.apt_python",
                 "dockfix.split.builder_apt", "dockfix.split.venv_first"],
    "transforms": ["dockfix.transforms"],
    "app": ["dockfix.runner", "dockfix.batch", "dockfix.formats", "dockfix.checklist", "dockfix.checklist_report",
            "dockfix.ci_files",
            "dockfix.cli", "dockfix.all_repos", "dockfix.__main__", "dockfix"],
}
ORDER = list(LAYERS)


def layer_of(module: str) -> int:
    """The layer of the longest listed prefix (dockfix.transforms.apt is a transform)."""
    best = max((p for ps in LAYERS.values() for p in ps if module == p or module.startswith(p + ".")), key=len)
    return next(i for i, name in enumerate(ORDER) if best in LAYERS[name])


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted((SRC / "dockfix").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        out.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return out


def imports(path: Path, module: str) -> set[str]:
    found = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("dockfix")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.startswith("dockfix"):
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names if (SRC / (base + "." + a.name).replace(".", "/")).with_suffix(".py").exists()}
    return found


@pytest.mark.parametrize("module, path", modules(), ids=[m for m, _ in modules()])
def test_a_module_imports_only_its_layer_and_below(module, path):
    own = layer_of(module)
    above = sorted(i for i in imports(path, module) if layer_of(i) > own)
    assert not above, f"{module} ({ORDER[own]}) imports from above: {above}"


def test_no_transform_imports_another():
    for module, path in modules():
        if not module.startswith("dockfix.transforms.") or module.split(".")[-1].startswith("_"):
            continue
        others = [i for i in imports(path, module) if i.startswith("dockfix.transforms.") and i != module
                  and not i.split(".")[-1].startswith("_")]
        assert not others, f"{module} imports {others}: shared knowledge belongs in an analysis module"


def test_the_check_sees_a_violation(tmp_path):
    bad = tmp_path / "syntax.py"
    bad.write_text("from dockfix.engine import run_pipeline\n")
    assert any(layer_of(i) > layer_of("dockfix.syntax") for i in imports(bad, "dockfix.syntax"))
