"""The command line of a sandbox server (LOCAL.md).

    python -m sandbox dataverse --port P [--data DIR] [--dataset NAME] [--records N] [--seed N]
        [--latency-ms N] [--record-cost-ms N] [--max-concurrency N]
        [--requests-per-window N --window-s S] [--fault-rate F] [--throttle-rate F] [--token T]
        [--keep-alive-s S]
    python -m sandbox finops ... [--companies usmf,usrt]

Prints one line, `listening on http://127.0.0.1:P`, once it accepts connections (`--port 0`
picks a free port). Dataverse starts with its real service-protection limits (6,000
requests per 300 s, 52 concurrent) unless told otherwise; F&O with none. SIGTERM stops it.

An idle kept-alive connection stays open `--keep-alive-s` seconds (120 by default, as the
web servers in front of the real services do), longer than the clients' own pools keep an
idle connection and longer than any `Retry-After` the default limits give. uvicorn's own
default of 5 s is shorter than the waits the sandbox asks for: a client that slept exactly
`Retry-After: 5` and reused its connection met the server closing it at that very moment
and got `ConnectionResetError` or `RemoteDisconnected` instead of an answer.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from pathlib import Path

import uvicorn

from sandbox.datasets import DATASETS, load_dataset
from sandbox.dataverse_app import DataverseService
from sandbox.entities import load_entities
from sandbox.finops_app import FinOpsService
from sandbox.messages import Service
from sandbox.protection import Knobs, Protection, Stats
from sandbox.server import create_app
from sandbox.storage import Store

DEFAULT_LIMITS = {
    "dataverse": {"max_concurrency": 52, "requests_per_window": 6000, "window_s": 300.0},
    "finops": {"max_concurrency": 0, "requests_per_window": 0, "window_s": 300.0},
}
KEEP_ALIVE_S = 120.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="A local Dataverse or F&O Web API.")
    parser.add_argument("system", choices=["dataverse", "finops"])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data", type=Path, help="folder for the SQLite file (default: a temporary one)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), help="sample data to load into an empty store")
    parser.add_argument("--records", type=int, default=3000, help="accounts and contacts in the dataset")
    parser.add_argument("--seed", type=int, default=1, help="seed of the dataset and of the fault draws")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--record-cost-ms", type=float, default=0.0)
    parser.add_argument("--max-concurrency", type=int)
    parser.add_argument("--requests-per-window", type=int)
    parser.add_argument("--window-s", type=float)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="fraction answered 503 or dropped")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="fraction answered 429 at random")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN' on every service request")
    parser.add_argument("--companies", default="usmf", help="F&O companies, the default one first")
    parser.add_argument("--keep-alive-s", type=_positive_seconds, default=KEEP_ALIVE_S,
                        help="seconds an idle kept-alive connection stays open")
    return parser.parse_args(argv)


def _positive_seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"needs a positive number of seconds, not {text!r}")
    return seconds


def knobs_from(args: argparse.Namespace) -> Knobs:
    limits = dict(DEFAULT_LIMITS[args.system])
    for name in limits:
        if getattr(args, name) is not None:
            limits[name] = getattr(args, name)
    return Knobs().updated(
        {
            "latency_ms": args.latency_ms,
            "record_cost_ms": args.record_cost_ms,
            "fault_rate": args.fault_rate,
            "throttle_rate": args.throttle_rate,
            **limits,
        }
    )


def build_service(args: argparse.Namespace) -> tuple[Service, Store, list[str]]:
    store = Store(args.system, load_entities(args.system), args.data)
    companies = [c.strip().lower() for c in args.companies.split(",") if c.strip()]
    service: Service = DataverseService(store) if args.system == "dataverse" else FinOpsService(store, companies)
    if store.version == 0:
        with store.transaction():
            service.seed_system_records()
    if args.dataset:
        load_dataset(args.dataset, store, records=args.records, seed=args.seed, companies=companies)
    return service, store, companies


class _DroppedConnectionFilter(logging.Filter):
    """Dropping connections is what the fault knob asks for: not worth an error line each time."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing response."


async def serve(app: object, sock: socket.socket, url: str, keep_alive_s: float = KEEP_ALIVE_S) -> None:
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5,
        timeout_keep_alive=keep_alive_s,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(f"listening on {url}", flush=True)
    await task


def listen(port: int) -> socket.socket:
    """A loopback listening socket (port 0: any free one) whose connections send without delay.

    Accepted connections inherit TCP_NODELAY (asyncio would only set it on a socket made with
    IPPROTO_TCP spelled out): without it every kept-alive response with a body waits 40 ms for
    the client's delayed ACK, on top of the latency the knobs ask for.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again: this handler
    # turns that into a normal exit, so the store is closed (and a SIGTERM during start-up too).
    signal.signal(signal.SIGTERM, _stop)
    try:
        knobs = knobs_from(args)
        service, store, companies = build_service(args)
    except (ValueError, RuntimeError) as exc:
        sys.exit(f"python -m sandbox: {exc}")
    protection = Protection(knobs, seed=args.seed)
    default_company = companies[0] if args.system == "finops" else None
    app = create_app(service, store, protection, Stats(), args.token, default_company)
    logging.getLogger("uvicorn.error").addFilter(_DroppedConnectionFilter())
    try:
        sock = listen(args.port)
    except OSError as exc:
        store.close()
        sys.exit(f"python -m sandbox: cannot listen on 127.0.0.1:{args.port}: {exc}")
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        asyncio.run(serve(app, sock, url, args.keep_alive_s))
    finally:
        store.close()
