"""Blob files: CSV and JSON Lines in a container, as a source and as a destination.

As a source, the entity is a file (`imports/accounts.csv`) or a folder (`imports/accounts/`)
whose `.csv`, `.jsonl` and `.json` files are read in name order; an incremental read takes
the files changed since the last read. Each record is as recent as its file's last change.
CSV values are strings; a header row names the fields. A read by keys scans the entity's
files and answers each key with the last record holding it exactly (the most recent file,
the later row), so a record fixed in the files since is taken as it is now; files have no
record ids. As a destination, the entity is a
folder: each batch becomes one JSON Lines file named after its business keys, so writing the
same batch again replaces the same file. Records are never deleted from files: a delete fails
each key (`DeleteUnsupported`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from shared.connectors.base import Connector, EntityInfo, FieldInfo, Page, ReadRequest, WriteResult
from shared.errors import InvalidInput
from shared.store.files import BlobFiles

FORMATS = (".csv", ".jsonl", ".json")


class BlobFilesConnector(Connector):
    def __init__(self, files: BlobFiles) -> None:
        self.files = files

    def describe(self, entity: str) -> EntityInfo:
        names = self._files(entity, None)
        sample: dict[str, Any] = {}
        if names:
            sample = next(iter(_records(names[0][0], self.files.read(names[0][0]))), {})
        fields = {name: FieldInfo(name, "string") for name in sample}
        return EntityInfo(entity, entity, None, fields, [], change_tracking=False)

    def read_pages(self, request: ReadRequest) -> Iterator[Page]:
        saved = (request.state or {}) if request.incremental else {}
        cursor = json.loads(request.resume) if request.resume else {"file": 0, "row": 0}
        files = self._files(request.entity, saved.get("watermark"), set(saved.get("seen", [])))
        state = _state_after(files, saved)
        buffer: list[dict[str, Any]] = []
        modified: list[str] = []
        for index in range(cursor["file"], len(files)):
            name, stamp = files[index][0], files[index][1].isoformat()
            skip = cursor["row"] if index == cursor["file"] else 0
            for row, record in enumerate(_records(name, self.files.read(name))):
                if row < skip:
                    continue
                buffer.append(record)
                modified.append(stamp)
                if len(buffer) == request.page_size:
                    yield Page(records=buffer, next=json.dumps({"file": index, "row": row + 1}), modified=modified)
                    buffer, modified = [], []
        yield Page(records=buffer, state=state, modified=modified)

    def read_by_keys(
        self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]],
        select: list[str] | None = None, expand: Mapping[str, list[str]] | None = None,
    ) -> list[dict[str, Any] | None]:
        wanted = {_identity(values) for values in keys}
        found: dict[str, dict[str, Any]] = {}
        for name, _ in sorted(self._files(entity, None), key=lambda file: file[1]):
            for record in _records(name, self.files.read(name)):
                identity = _identity([record.get(k) for k in key_fields])
                if identity in wanted:
                    found[identity] = record
        return [found.get(_identity(values)) for values in keys]

    def _files(self, entity: str, since: str | None, seen: set[str] | None = None) -> list[tuple[str, Any]]:
        """The entity's files in name order; with `since`, those changed after it or at it but not `seen`."""
        if entity.lower().endswith(FORMATS):
            found = [f for f in self.files.list(entity) if f[0] == entity]
        else:
            prefix = entity.rstrip("/") + "/"
            found = [f for f in self.files.list(prefix) if f[0].lower().endswith(FORMATS)]
        seen = seen or set()
        return [f for f in found if since is None or (stamp := f[1].isoformat()) > since or (
            stamp == since and f[0] not in seen)]

    def write_batch(self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        if not records:
            return []
        if entity.lower().endswith(FORMATS):
            raise InvalidInput("a blob destination is a folder, not a file name", field="destination.entity")
        keys = sorted(json.dumps([r.get(k) for k in key], ensure_ascii=False) for r in records)
        digest = hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:24]
        lines = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
        self.files.write(f"{entity.rstrip('/')}/part-{digest}.jsonl", lines.encode("utf-8"), "application/x-ndjson")
        return [WriteResult("created")] * len(records)

    def delete_by_keys(
        self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]]
    ) -> list[WriteResult]:
        """Fails every key: files are written whole and never edited, so no record in them can be deleted."""
        refusal = WriteResult("failed", "DeleteUnsupported", f"records in blob files ({entity}) cannot be deleted")
        return [refusal] * len(keys)


def _identity(values: Sequence[Any]) -> str:
    """A key as files hold it: values compare exactly."""
    return json.dumps(list(values), ensure_ascii=False, sort_keys=True)


def _state_after(files: list[tuple[str, Any]], saved: dict[str, Any]) -> dict[str, Any] | None:
    """The newest modification time read, and the files read at exactly that time (clocks tick in seconds)."""
    if not files:
        return saved or None
    newest = max(modified.isoformat() for _, modified in files)
    seen = [name for name, modified in files if modified.isoformat() == newest]
    if newest == saved.get("watermark"):
        seen = sorted({*seen, *saved.get("seen", [])})
    return {"watermark": newest, "seen": seen}


def _records(name: str, data: bytes) -> Iterator[dict[str, Any]]:
    text = data.decode("utf-8-sig")
    if name.lower().endswith(".csv"):
        yield from csv.DictReader(io.StringIO(text, newline=""))
        return
    if name.lower().endswith(".json") and text.lstrip().startswith("["):
        yield from json.loads(text)
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{name} line {number} is not JSON: {exc.msg}", field="entity") from exc
