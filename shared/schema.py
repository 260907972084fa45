"""The JSON Schema of a project definition, generated from the domain model.

    .venv/bin/python -m shared.schema            # rewrite mappings/schema/project.schema.json
    .venv/bin/python -m shared.schema --check    # exit 1 when the committed file is stale

Editors and CI validate templates and project files against it; the model stays the
single source of truth.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shared.models import ProjectDefinition

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "mappings" / "schema" / "project.schema.json"


def project_schema() -> dict[str, Any]:
    schema = ProjectDefinition.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Data integration project definition",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def render() -> str:
    return json.dumps(project_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check that the committed schema is current")
    args = parser.parse_args()
    current = render()
    if args.check:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text(encoding="utf-8") != current:
            print(f"{SCHEMA_PATH} is stale: run `make schema`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(current, encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
