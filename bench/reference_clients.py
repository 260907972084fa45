"""Clients the project is measured against; they live here, never in the product.

    per_record_upsert   PATCH accounts(accountnumber='…') per record, 10 workers
    batch_upsert        `$batch` of 10 such PATCHes (continue-on-error), 10 workers
    bulk_upsert         UpsertMultiple with prebuilt bodies: the wire limit of the sandbox

They behave as well-behaved production clients do, so that a figure measures the service and
not a client giving up. Every request they send is an upsert by key (one PATCH, a `$batch` of
PATCHes, UpsertMultiple), so sending it again is harmless:

- 429, 502, 503 and 504 are retried after `Retry-After` (seconds or an HTTP date) in the
  worker that was told to wait, up to `MAX_ATTEMPTS` answers;
- a connection that fails before its answer is complete (reset, closed by the server
  between two requests, cut mid-response) is retried on a new connection after a short
  back-off with jitter, up to `CONNECTION_ATTEMPTS` failures in a row; each such retry is
  counted and reported, so a server dropping connections shows in the figures;
- anything else (another status, a read timeout, a server that stays unreachable) raises
  and stops the contender.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests

from bench.workload import ENTITY_SET, KEY

API = "/api/data/v9.2/"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json", "OData-Version": "4.0"}
RETRYABLE = frozenset({429, 502, 503, 504})
MAX_ATTEMPTS = 50
"""Retryable answers one request may get before the contender gives up."""
CONNECTION_ATTEMPTS = 5
"""Connection failures in a row one request may meet before the contender gives up."""
CONNECTION_FAILURES = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
"""A reset, a refused or server-closed connection, or an answer cut short (never a read timeout)."""
BACKOFF_S = 0.05
BACKOFF_CAP_S = 2.0
READ_TIMEOUT_S = 120


@dataclass
class ClientRun:
    """What one contender did: records in how long, with how many requests, 429s and connection retries."""

    name: str
    records: int
    seconds: float = 0.0
    requests: int = 0
    throttled: int = 0
    connection_retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def rps(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def count(self, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.throttled += status == 429

    def count_connection_failure(self) -> None:
        with self._lock:
            self.requests += 1
            self.connection_retries += 1


class _Sender:
    """Thread-local sessions and the retry loop every reference client shares."""

    def __init__(self, run: ClientRun) -> None:
        self.run = run
        self._local = threading.local()

    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        """Send one idempotent request until it is answered with a final status (see the module docstring)."""
        answers = failures = 0
        while True:
            try:
                response = self.session().request(method, url, data=body, headers=headers, timeout=READ_TIMEOUT_S)
            except CONNECTION_FAILURES as exc:
                self.run.count_connection_failure()
                failures += 1
                if failures >= CONNECTION_ATTEMPTS:
                    raise RuntimeError(f"{self.run.name}: {method} {url}: the connection failed "
                                       f"{failures} times in a row, last: {exc}") from exc
                time.sleep(_backoff(failures))
                continue
            failures = 0
            self.run.count(response.status_code)
            if response.status_code not in RETRYABLE:
                if response.status_code >= 300:
                    raise RuntimeError(f"{self.run.name}: {response.status_code} {response.text[:300]}")
                return response
            answers += 1
            if answers >= MAX_ATTEMPTS:
                raise RuntimeError(f"{self.run.name}: still {response.status_code} after {MAX_ATTEMPTS} attempts")
            time.sleep(retry_after_s(response.headers, answers))


def retry_after_s(headers: Mapping[str, str], attempt: int) -> float:
    """The wait a retryable answer asks for: `Retry-After` in seconds or as an HTTP date, else a back-off."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return _backoff(attempt)
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return _backoff(attempt)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _backoff(attempt: int) -> float:
    """Exponential from BACKOFF_S, capped, with full jitter so that workers do not retry in step."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_S * 2 ** (attempt - 1)))


def _run_parallel(run: ClientRun, workers: int, jobs: Sequence[Any], job: Callable[[_Sender, Any], None]) -> ClientRun:
    sender = _Sender(run)
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(lambda item: job(sender, item), jobs):
            pass
    run.seconds = time.perf_counter() - started
    return run


def _key_url(service_url: str, record: dict[str, Any]) -> str:
    value = str(record[KEY]).replace("'", "''")
    return f"{service_url}{API}{ENTITY_SET}({KEY}='{quote(value, safe='')}')"


def per_record_upsert(service_url: str, records: Sequence[dict[str, Any]], workers: int = 10) -> ClientRun:
    """(a) One PATCH upsert by alternate key per record."""

    def upsert(sender: _Sender, record: dict[str, Any]) -> None:
        sender.send("PATCH", _key_url(service_url, record), json.dumps(record).encode(), JSON_HEADERS)

    return _run_parallel(ClientRun("per-record PATCH", len(records)), workers, records, upsert)


def batch_upsert(
    service_url: str, records: Sequence[dict[str, Any]], batch_size: int = 10, workers: int = 10
) -> ClientRun:
    """(b) `$batch` requests of `batch_size` PATCH upserts by alternate key, continue-on-error."""

    def send_batch(sender: _Sender, chunk: Sequence[dict[str, Any]]) -> None:
        content_type, body = _multipart([(_key_url(service_url, r), r) for r in chunk])
        headers = {"Content-Type": content_type, "Accept": "application/json", "OData-Version": "4.0",
                   "Prefer": "odata.continue-on-error"}
        answer = sender.send("POST", f"{service_url}{API}$batch", body, headers)
        if answer.content.count(b"HTTP/1.1 204") + answer.content.count(b"HTTP/1.1 200") != len(chunk):
            raise RuntimeError(f"$batch: not every operation succeeded: {answer.text[:500]}")

    run = ClientRun(f"$batch of {batch_size}", len(records))
    return _run_parallel(run, workers, list(_chunks(records, batch_size)), send_batch)


def bulk_upsert(service_url: str, records: Sequence[dict[str, Any]], batch_size: int, workers: int) -> ClientRun:
    """The wire limit: UpsertMultiple bodies built before the clock starts, sent by `workers` threads."""
    odata_type = {"@odata.type": "Microsoft.Dynamics.CRM.account"}
    bodies = [json.dumps({"Targets": [{**odata_type, **r} for r in chunk]}, separators=(",", ":")).encode()
              for chunk in _chunks(records, batch_size)]
    url = f"{service_url}{API}{ENTITY_SET}/Microsoft.Dynamics.CRM.UpsertMultiple"

    def send_bulk(sender: _Sender, body: bytes) -> None:
        sender.send("POST", url, body, JSON_HEADERS)

    run = ClientRun(f"UpsertMultiple {batch_size} x {workers}", len(records))
    return _run_parallel(run, workers, bodies, send_bulk)


def _chunks(records: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def _multipart(operations: Sequence[tuple[str, dict[str, Any]]]) -> tuple[str, bytes]:
    boundary = f"batch_{uuid.uuid4().hex}"
    lines: list[str] = []
    for index, (url, body) in enumerate(operations, start=1):
        lines += [f"--{boundary}", "Content-Type: application/http", "Content-Transfer-Encoding: binary",
                  f"Content-ID: {index}", "", f"PATCH {url} HTTP/1.1", "Content-Type: application/json", "",
                  json.dumps(body)]
    lines += [f"--{boundary}--", ""]
    return f"multipart/mixed; boundary={boundary}", "\r\n".join(lines).encode()
