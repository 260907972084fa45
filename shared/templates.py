"""Project templates shipped in mappings/templates/: definitions a user can start a project from."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from shared.errors import NotFound
from shared.models import ProjectDefinition

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "mappings" / "templates"


@cache
def _load(directory: Path) -> dict[str, ProjectDefinition]:
    found: dict[str, ProjectDefinition] = {}
    for path in sorted(directory.glob("*.json")):
        template = ProjectDefinition.model_validate_json(path.read_text(encoding="utf-8"))
        found[template.name] = template
    return found


def templates(directory: Path = TEMPLATES_DIR) -> list[ProjectDefinition]:
    """Every template, in the order a prospect-to-cash integration runs them (file name order)."""
    return list(_load(directory).values())


def template(name: str, directory: Path = TEMPLATES_DIR) -> ProjectDefinition:
    try:
        return _load(directory)[name]
    except KeyError:
        raise NotFound(f"no template called {name!r}", field="template") from None
