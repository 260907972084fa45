"""`python -m devhost [--port 7071] [--storage CONNSTR] [--app-dir DIR | --app MODULE] [--lenient] [--poll-ms N]`

Serves a function app (default: function_app.py in the current folder) like `func start`,
with the Durable extension's part played by devhost, as strictly as Azure unless
`--lenient`. See devhost/host.py.
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
    parser.add_argument("--lenient", action="store_true",
                        help="turn off every strictness that models Azure (for debugging; see README)")
    parser.add_argument("--poll-ms", type=_milliseconds, default=0, metavar="N",
                        help="delay before a queued Durable message is seen, like queue polling (default 0)")
    args = parser.parse_args(argv)
    return Options(port=args.port, storage=args.storage, app_dir=args.app_dir, app_module=args.app_module,
                   lenient=args.lenient, poll_ms=args.poll_ms)


def _milliseconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of milliseconds (0 or more)")
    return value


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
