"""`python -m devhost [--port 7071] [--storage CONNSTR] [--app-dir DIR | --app MODULE]`

Serves a function app (default: function_app.py in the current folder) like `func start`,
with the Durable extension's part played by devhost. See devhost/host.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devhost.host import Options, configure_logging, run


def parse_args(argv: list[str] | None = None) -> Options:
    """The command line as Options."""
    parser = argparse.ArgumentParser(prog="python -m devhost", description="Local Azure Functions + Durable host.")
    parser.add_argument("--port", type=int, default=7071,
                        help="port on 127.0.0.1; 0 picks a free one (default 7071)")
    parser.add_argument("--storage", metavar="CONNSTR",
                        help="storage connection string (default: the AzureWebJobsStorage setting)")
    app = parser.add_mutually_exclusive_group()
    app.add_argument("--app-dir", type=Path, metavar="DIR",
                     help="folder holding function_app.py, host.json, local.settings.json")
    app.add_argument("--app", dest="app_module", metavar="MODULE",
                     help="dotted module of the FunctionApp; its folder holds host.json")
    args = parser.parse_args(argv)
    return Options(port=args.port, storage=args.storage, app_dir=args.app_dir, app_module=args.app_module)


def main() -> None:
    """Run devhost and exit with its code."""
    configure_logging()
    code = run(parse_args())
    sys.stdout.flush()
    sys.stderr.flush()
    # Activities still running cannot be interrupted and would hold the interpreter's exit;
    # their work items stay in storage, so they run again on the next start.
    os._exit(code)


if __name__ == "__main__":
    main()
