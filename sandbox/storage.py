"""SQLite storage for one sandbox system: one table per entity set, one column per field.

Why columns rather than a JSON document per record: the entity definitions are fixed when
the server starts, so every OData property maps to one typed column. `$filter` then
becomes a plain WHERE clause over those columns (no json_extract), `$orderby` and keyset
paging use ordinary indexes, string columns carry `COLLATE NOCASE` so that comparisons,
sorting and key uniqueness are case-insensitive as they are on the services' SQL Server,
and each key (Dataverse primary id and alternate keys, the F&O entity key) is a UNIQUE
index that SQLite enforces inside the same transaction as the write.

Besides the declared fields each table has `$rowid` (insertion order, the final tie-breaker
of every sort), `$version` (a database-wide counter bumped on every write: change tracking,
ETags, Dataverse `versionnumber`) and, per polymorphic lookup, `$target:<column>` with the
entity set the reference points to. Deletions of change-tracked entities are logged in
`$deleted` with their version. The store fills in the columns the server owns: primary ids,
created/modified timestamps, auto-numbers, computed names and, in F&O, the empty value of
every field nobody set.

Without a data folder the database is SQLite's private temporary file (removed when the
connection closes), not an in-memory one: pages beyond the page cache go to disk, so the
process stays small at a million records, as a service's front end does, and nothing
persists between runs either way.

One connection serves the whole process. All database work runs on one dedicated thread
(`Store.run`), so request handlers never block the event loop and no two requests
interleave inside a transaction.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sandbox.entities import Entity, Field, Key, utc_now

T = TypeVar("T")
ROWID = "$rowid"
VERSION = "$version"
SQL_TYPES = {
    "string": "TEXT COLLATE NOCASE",
    "memo": "TEXT COLLATE NOCASE",
    "enum": "TEXT COLLATE NOCASE",
    "int": "INTEGER",
    "bigint": "INTEGER",
    "choice": "INTEGER",
    "bool": "INTEGER",
    "decimal": "REAL",
    "money": "REAL",
    "datetime": "TEXT",
    "date": "TEXT",
    "guid": "TEXT",
    "lookup": "TEXT",
}
TIMESTAMP_FIELDS = {"dataverse": ("createdon", "modifiedon"), "finops": ("ModifiedDateTime",)}


class DuplicateKey(Exception):
    """A write would give two records the same key. `key` is None for the primary id."""

    def __init__(self, entity: Entity, key: Key | None, values: Mapping[str, Any]) -> None:
        super().__init__(f"{entity.entity_set}: duplicate {key.name if key else 'primary id'}")
        self.entity = entity
        self.key = key
        self.values = dict(values)


def quote(identifier: str) -> str:
    """A column or table name as an SQL identifier; names come from definitions, never from requests."""
    return '"' + identifier.replace('"', '""') + '"'


def target_column(fld: Field) -> str:
    """The hidden column that remembers which entity set a polymorphic lookup points to."""
    return f"$target:{fld.prop}"


@dataclass(frozen=True)
class _Table:
    """An entity's columns and prepared statements, built once."""

    columns: tuple[str, ...]
    insert: str
    select_all: str
    booleans: frozenset[str]
    computed: tuple[Field, ...]


@dataclass(frozen=True)
class Query:
    """What to read from one table. `where` is SQL over alias `t` with `?` placeholders."""

    where: str = ""
    params: tuple[Any, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None
    offset: int = 0
    after: tuple[Any, ...] | None = None


class Store:
    """The records of one system in SQLite (a file under `data_dir`, or a private temporary file)."""

    def __init__(self, system: str, entities: Mapping[str, Entity], data_dir: Path | None = None) -> None:
        self.system = system
        self.entities = dict(entities)
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            target = str(data_dir / f"{system}.sqlite3")
        else:
            target = ""  # SQLite's private temporary database: on disk, deleted on close
        self.conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        # 16 MiB: the process stays small at any size, while the OS caches the database file
        self.conn.execute("PRAGMA cache_size=-16384")
        self._depth = 0
        self._tables: dict[str, _Table] = {}
        self._updates: dict[tuple[str, tuple[str, ...]], str] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{system}-sqlite")
        self._create_schema()
        self._version = self._max_version()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.conn.close()

    # --- schema -------------------------------------------------------------------------

    def _fingerprint(self) -> str:
        shape = {
            name: [[f.prop, f.type] for f in e.fields.values()] + [[k.name, list(k.fields)] for k in e.keys]
            for name, e in sorted(self.entities.items())
        }
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()

    def _create_schema(self) -> None:
        conn = self.conn
        conn.execute('CREATE TABLE IF NOT EXISTS "$meta" (name TEXT PRIMARY KEY, value)')
        conn.execute('CREATE TABLE IF NOT EXISTS "$deleted" (entity_set TEXT, id TEXT, version INTEGER)')
        conn.execute('CREATE INDEX IF NOT EXISTS "$deleted/version" ON "$deleted"(entity_set, version)')
        fingerprint = self._fingerprint()
        stored = conn.execute("SELECT value FROM \"$meta\" WHERE name = 'schema'").fetchone()
        if stored is not None and stored[0] != fingerprint:
            raise RuntimeError("the data folder was made with other entity definitions: use a new --data folder")
        for entity in self.entities.values():
            self._create_table(entity)
        conn.execute("INSERT OR REPLACE INTO \"$meta\"(name, value) VALUES ('schema', ?)", (fingerprint,))

    def _create_table(self, entity: Entity) -> None:
        table = quote(entity.entity_set)
        names = tuple(_columns(entity))
        self._tables[entity.entity_set] = _Table(
            columns=names,
            insert=(
                f"INSERT INTO {table} ({', '.join(quote(c) for c in (VERSION, *names))}) "
                f"VALUES ({', '.join('?' for _ in range(len(names) + 1))})"
            ),
            select_all=", ".join(f"t.{quote(c)}" for c in (ROWID, VERSION, *names)),
            booleans=frozenset(f.prop for f in entity.fields.values() if f.type == "bool"),
            computed=tuple(f for f in entity.fields.values() if f.computed_from),
        )
        columns = [f"{quote(ROWID)} INTEGER PRIMARY KEY", f"{quote(VERSION)} INTEGER NOT NULL"]
        for fld in entity.fields.values():
            columns.append(f"{quote(fld.prop)} {SQL_TYPES[fld.type]}")
            if len(fld.targets) > 1:
                columns.append(f"{quote(target_column(fld))} TEXT")
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})")
        self.conn.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(entity.entity_set + '/$version')} ON {table}({quote(VERSION)})"
        )
        unique = [entity.entity_key, *entity.alternate_keys]
        for key in unique:
            cols = ", ".join(quote(entity.fields[name].prop) for name in key.fields)
            self.conn.execute(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {quote(entity.entity_set + '/' + key.name)} ON {table}({cols})"
            )
        for fld in entity.fields.values():
            if fld.type == "lookup":
                self.conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {quote(entity.entity_set + '/' + fld.prop)} "
                    f"ON {table}({quote(fld.prop)})"
                )

    def _max_version(self) -> int:
        versions = [self.conn.execute('SELECT MAX(version) FROM "$deleted"').fetchone()[0] or 0]
        for entity in self.entities.values():
            row = self.conn.execute(f"SELECT MAX({quote(VERSION)}) FROM {quote(entity.entity_set)}").fetchone()
            versions.append(row[0] or 0)
        return max(versions)

    # --- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; nests (an inner block is a savepoint, as a change set inside a batch)."""
        name = f"sp{self._depth}"
        self.conn.execute("BEGIN" if self._depth == 0 else f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("ROLLBACK")
            else:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            raise
        self._depth -= 1
        self.conn.execute("COMMIT" if self._depth == 0 else f"RELEASE {name}")

    # --- versions and sequences ---------------------------------------------------------

    @property
    def version(self) -> int:
        """The version of the latest write."""
        return self._version

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    def next_sequence(self, name: str) -> int:
        """The next number of a named sequence (auto-numbered fields)."""
        row = self.conn.execute(
            'INSERT INTO "$meta"(name, value) VALUES (?, 1) '
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            (f"seq:{name}",),
        ).fetchone()
        return int(row[0])

    # --- writes -------------------------------------------------------------------------

    def _complete(self, entity: Entity, record: dict[str, Any], as_is: bool) -> dict[str, Any]:
        """The full row of a new record: server-owned columns filled in, unset fields empty."""
        row = dict(record)
        if entity.primary_id is not None and row.get(entity.primary_id) is None:
            row[entity.primary_id] = str(uuid.uuid4())
        now = utc_now()
        for name in TIMESTAMP_FIELDS[self.system]:
            if not (as_is and row.get(name)):
                row[name] = now
        for fld in entity.fields.values():
            if fld.autonumber and row.get(fld.prop) in (None, ""):
                row[fld.prop] = self._autonumber(entity, fld, row)
            if fld.computed_from and not (as_is and row.get(fld.prop)):
                row[fld.prop] = _computed(fld, row)
            if row.get(fld.prop) is None:
                row[fld.prop] = entity.empty_value(fld)
        return row

    def _autonumber(self, entity: Entity, fld: Field, row: Mapping[str, Any]) -> str:
        """The next number of the field's sequence that no record of the same key holds yet."""
        key = next((k for k in (entity.entity_key, *entity.alternate_keys) if fld.name in k.fields), None)
        while True:
            value = fld.autonumber.format(seq=self.next_sequence(f"{entity.entity_set}.{fld.name}"))
            if key is None:
                return value
            probe = {entity.fields[name].prop: row.get(entity.fields[name].prop) for name in key.fields}
            if self.find(entity, probe | {fld.prop: value}) is None:
                return value

    def insert(self, entity: Entity, records: Sequence[dict[str, Any]], *, as_is: bool = False) -> list[dict[str, Any]]:
        """Add new records (property -> value, plus any `$target:` columns); returns them as stored.

        `as_is` keeps timestamps and computed values the caller gives (seeding).
        """
        rows = [self._complete(entity, record, as_is) for record in records]
        table = self._tables[entity.entity_set]
        columns = table.columns
        has_version_field = "versionnumber" in entity.fields
        params = []
        for row in rows:
            row[VERSION] = self._next_version()
            if has_version_field:
                row["versionnumber"] = row[VERSION]
            params.append([row[VERSION], *(_to_sql(row.get(c)) for c in columns)])
        try:
            self.conn.executemany(table.insert, params)
        except sqlite3.IntegrityError as exc:
            raise self._duplicate(entity, exc, rows) from None
        return rows

    def update(self, entity: Entity, current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change some columns of a stored record (`current` as read, with `$rowid`); returns it as stored."""
        row = {**current, **changes}
        touched = [VERSION, *changes]
        if entity.system == "finops":
            for prop in changes:
                if row[prop] is None and prop in entity.props:
                    row[prop] = entity.empty_value(entity.props[prop])
        for fld in self._tables[entity.entity_set].computed:
            row[fld.prop] = _computed(fld, row)
            touched.append(fld.prop)
        modified = TIMESTAMP_FIELDS[self.system][-1]
        row[modified] = utc_now()
        row[VERSION] = self._next_version()
        touched.append(modified)
        if "versionnumber" in entity.fields:
            row["versionnumber"] = row[VERSION]
            touched.append("versionnumber")
        columns = tuple(dict.fromkeys(touched))
        sql = self._updates.get((entity.entity_set, columns))
        if sql is None:
            assignments = ", ".join(f"{quote(c)} = ?" for c in columns)
            sql = f"UPDATE {quote(entity.entity_set)} SET {assignments} WHERE {quote(ROWID)} = ?"
            self._updates[(entity.entity_set, columns)] = sql
        try:
            self.conn.execute(sql, [*(_to_sql(row.get(c)) for c in columns), row[ROWID]])
        except sqlite3.IntegrityError as exc:
            raise self._duplicate(entity, exc, [row]) from None
        return row

    def delete(self, entity: Entity, current: Mapping[str, Any]) -> None:
        """Remove a stored record; change-tracked entities remember the deletion."""
        self.conn.execute(f"DELETE FROM {quote(entity.entity_set)} WHERE {quote(ROWID)} = ?", (current[ROWID],))
        if entity.change_tracking and entity.primary_id is not None:
            self.conn.execute(
                'INSERT INTO "$deleted"(entity_set, id, version) VALUES (?, ?, ?)',
                (entity.entity_set, current[entity.primary_id], self._next_version()),
            )

    def reset(self) -> None:
        """Drop every record and the deletion log; definitions and the version counter stay."""
        with self.transaction():
            for entity in self.entities.values():
                self.conn.execute(f"DELETE FROM {quote(entity.entity_set)}")
            self.conn.execute('DELETE FROM "$deleted"')
            self.conn.execute("DELETE FROM \"$meta\" WHERE name LIKE 'seq:%'")

    def _duplicate(self, entity: Entity, exc: sqlite3.IntegrityError, rows: Sequence[Mapping[str, Any]]) -> Exception:
        message = str(exc)
        if not message.startswith("UNIQUE constraint failed:"):
            return exc
        columns = [part.strip().split(".", 1)[1] for part in message.split(":", 1)[1].split(",")]
        keys = [entity.entity_key, *entity.alternate_keys]
        for key in keys:
            if [entity.fields[name].prop for name in key.fields] == columns:
                clash = self._clashing_row(entity, key, rows)
                is_primary = entity.primary_id is not None and key.fields == (entity.primary_id,)
                return DuplicateKey(entity, None if is_primary else key, clash)
        return exc

    def _clashing_row(self, entity: Entity, key: Key, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The key values of the first written row whose key is already taken."""
        props = [entity.fields[name].prop for name in key.fields]
        seen: set[tuple[Any, ...]] = set()
        for row in rows:
            values = tuple(_fold(row.get(p)) for p in props)
            if None in values:
                continue
            taken = values in seen or self.find(entity, {p: row.get(p) for p in props}, exclude=row.get(ROWID))
            if taken:
                return {p: row.get(p) for p in props}
            seen.add(values)
        return {p: rows[0].get(p) for p in props}

    # --- reads --------------------------------------------------------------------------

    def find(self, entity: Entity, values: Mapping[str, Any], exclude: int | None = None) -> dict[str, Any] | None:
        """The record whose columns equal `values` (case-insensitively for text), if any."""
        clauses = [
            f"t.{quote(col)} = ?" if val is not None else f"t.{quote(col)} IS NULL" for col, val in values.items()
        ]
        params = [_to_sql(v) for v in values.values() if v is not None]
        if exclude is not None:
            clauses.append(f"t.{quote(ROWID)} != ?")
            params.append(exclude)
        rows = self.fetch(entity, Query(where=" AND ".join(clauses), params=tuple(params), limit=1))
        return rows[0] if rows else None

    def fetch(self, entity: Entity, query: Query, props: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Records matching `query`, with `$rowid` and `$version`; `props` limits the columns read."""
        table = self._tables[entity.entity_set]
        wanted = list(props) if props is not None else list(table.columns)
        order_cols = [c for c, _ in query.order if c not in wanted and c not in (ROWID, VERSION)]
        select = [ROWID, VERSION, *wanted, *order_cols]
        columns = table.select_all if props is None and not order_cols else ", ".join(f"t.{quote(c)}" for c in select)
        sql = [f"SELECT {columns} FROM {quote(entity.entity_set)} AS t"]
        where, params = self._where(query)
        if where:
            sql.append(f"WHERE {where}")
        order = sort_columns(query.order)
        sql.append("ORDER BY " + ", ".join(f"t.{quote(c)}{' DESC' if desc else ''}" for c, desc in order))
        if query.limit is not None:
            sql.append("LIMIT ? OFFSET ?")
            params += [query.limit, query.offset]
        elif query.offset:
            sql.append("LIMIT -1 OFFSET ?")
            params.append(query.offset)
        cursor = self.conn.execute(" ".join(sql), params)
        booleans = table.booleans.intersection(select)
        rows = []
        for values in cursor:
            row = dict(zip(select, values, strict=True))
            for name in booleans:
                if row[name] is not None:
                    row[name] = bool(row[name])
            rows.append(row)
        return rows

    def count(self, entity: Entity, query: Query) -> int:
        where, params = self._where(Query(where=query.where, params=query.params))
        sql = f"SELECT COUNT(*) FROM {quote(entity.entity_set)} AS t" + (f" WHERE {where}" if where else "")
        return int(self.conn.execute(sql, params).fetchone()[0])

    def _where(self, query: Query) -> tuple[str, list[Any]]:
        clauses, params = [], list(query.params)
        if query.where:
            clauses.append(f"({query.where})")
        if query.after is not None:
            after_sql, after_params = _after(sort_columns(query.order), query.after)
            clauses.append(after_sql)
            params += after_params
        return " AND ".join(clauses), params

    def changes(self, entity: Entity, since: int, until: int, after: int, limit: int) -> list[dict[str, Any]]:
        """Records written and deletions logged in versions (since, until], after version `after`.

        Each item is a stored record, or `{"$deleted": id, "$version": v}`; ordered by version.
        """
        start = max(since, after)
        rows = self.fetch(
            entity,
            Query(
                where=f"t.{quote(VERSION)} > ? AND t.{quote(VERSION)} <= ?",
                params=(start, until),
                order=((VERSION, False),),
                limit=limit,
            ),
        )
        deleted = self.conn.execute(
            'SELECT id, version FROM "$deleted" WHERE entity_set = ? AND version > ? AND version <= ? '
            "ORDER BY version LIMIT ?",
            (entity.entity_set, start, until, limit),
        ).fetchall()
        merged = rows + [{"$deleted": rid, VERSION: version} for rid, version in deleted]
        merged.sort(key=lambda item: item[VERSION])
        return merged[:limit]


def _columns(entity: Entity) -> list[str]:
    cols = []
    for fld in entity.fields.values():
        cols.append(fld.prop)
        if len(fld.targets) > 1:
            cols.append(target_column(fld))
    return cols


def _to_sql(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _computed(fld: Field, row: Mapping[str, Any]) -> str | None:
    parts = [row.get(name) for name in fld.computed_from]
    text = " ".join(str(p) for p in parts if p not in (None, ""))
    return text or None


def sort_columns(order: Sequence[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """The full sort of a query: its order, then `$rowid` so that every row has one place."""
    return [*[(c, d) for c, d in order if c != ROWID], (ROWID, False)]


def _after(order: Sequence[tuple[str, bool]], last: Sequence[Any]) -> tuple[str, list[Any]]:
    """Rows after `last` in `order` (keyset paging), with SQLite's NULLs-first ordering.

    The alternatives are joined by OR, which SQLite cannot turn into an index range: it would
    walk the index from its start on every page, so reading a million rows took time
    quadratic in their number. Over the leading sort columns that ascend and whose cursor
    values are not NULL, every row after the cursor is at least the cursor (as a row value;
    a NULL sorts first, so a row whose NULL would decide lies before it), and saying so lets
    the page start where the cursor stands.
    """
    clauses, params = _after_alternatives(order, last)
    prefix = 0
    while prefix < len(order) and not order[prefix][1] and last[prefix] is not None:
        prefix += 1
    if prefix == 0:
        return clauses, params
    columns = ", ".join(f"t.{quote(column)}" for column, _ in order[:prefix])
    marks = ", ".join("?" for _ in range(prefix))
    return f"(({columns}) >= ({marks}) AND {clauses})", [*last[:prefix], *params]


def _after_alternatives(order: Sequence[tuple[str, bool]], last: Sequence[Any]) -> tuple[str, list[Any]]:
    alternatives, params = [], []
    for i, (column, desc) in enumerate(order):
        parts = [f"t.{quote(prev)} IS ?" for prev, _ in order[:i]]
        part_params = list(last[:i])
        value = last[i]
        col = f"t.{quote(column)}"
        if value is None:
            if desc:
                continue
            parts.append(f"{col} IS NOT NULL")
        elif desc:
            parts.append(f"({col} < ? OR {col} IS NULL)")
            part_params.append(value)
        else:
            parts.append(f"{col} > ?")
            part_params.append(value)
        alternatives.append("(" + " AND ".join(parts) + ")")
        params += part_params
    return "(" + (" OR ".join(alternatives) or "0") + ")", params
