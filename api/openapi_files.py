"""`make connector`: write the custom connector's files into connector/, or check that they are current.

    .venv/bin/python -m api.openapi_files                     # rewrite connector/*.json
    .venv/bin/python -m api.openapi_files --check             # exit 1 when a committed file is stale
    .venv/bin/python -m api.openapi_files --host myapp.azurewebsites.net --out /tmp/connector

The committed definition names a placeholder host: import it after setting `host` to your
app's, or download `GET /api/openapi.json` from your app, which names its own host.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.openapi import app_routes, base_path
from shared.openapi import api_properties, connector_definition, render

CONNECTOR_DIR = Path(__file__).resolve().parent.parent / "connector"
PLACEHOLDER_HOST = "your-function-app.azurewebsites.net"
DEFINITION = "apiDefinition.swagger.json"
PROPERTIES = "apiProperties.json"


def connector_files(host: str = PLACEHOLDER_HOST) -> dict[str, str]:
    """The files of the custom connector by name, as text."""
    definition = connector_definition(app_routes(), host, base_path(), "https")
    return {DEFINITION: render(definition), PROPERTIES: render(api_properties())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=PLACEHOLDER_HOST, help="the Function App's host name")
    parser.add_argument("--out", type=Path, default=CONNECTOR_DIR, help="where to write the files")
    parser.add_argument("--check", action="store_true", help="only check that the files there are current")
    args = parser.parse_args(argv)
    files = connector_files(args.host)
    if args.check:
        stale = [name for name, text in files.items()
                 if not (args.out / name).exists() or (args.out / name).read_text(encoding="utf-8") != text]
        for name in stale:
            print(f"{args.out / name} is stale: run `make connector`", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
