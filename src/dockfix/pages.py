"""Each transform's page (transforms/<name>.md), shipped inside the wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _folders() -> list[Path]:
    shipped = Path(str(resources.files("dockfix"))) / "pages"  # in the wheel
    checkout = Path(__file__).resolve().parents[2] / "transforms"  # in a source checkout
    return [p for p in (shipped, checkout) if p.is_dir()]


def page(name: str) -> str | None:
    for folder in _folders():
        path = folder / f"{name}.md"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None
