"""Two-way tasks matched by a key map (`match: keyMap`): each side's key is its records' own id.

A pair's identity is its CDS id. A CDS record's identity is its own id; a source record's is the
CDS id the key map gives its id (`sourceToCds` rows, the same rows a one-way key-mapped task
keeps, so a task made two-way keeps its pairs), else the id the one-way key map would derive
for it (shared/store/key_maps.py `derived_id`): the id its CDS record gets when created. A CDS
record created on the source side gets a chosen source id: the one the `cdsToSource` rows give,
else one derived from the CDS id. Before either side's record is created the merge step records
the pair both ways (`record_created`), so a step that crashes and runs again finds the same ids
and never creates a second record. Records existing on both sides before the first run cannot
be matched (nothing identifies them but ids the key map does not hold): each is created on the
other side.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from shared.mapping import is_blank
from shared.store import Store
from shared.store.key_maps import derived_id
from shared.twoway.identity import Identity, identity_of

TO_CDS, TO_SOURCE = "sourceToCds", "cdsToSource"


def cds_id_of(identity: str) -> str:
    """The CDS id a pair identity names."""
    return str(json.loads(identity)[0])


def source_identities(store: Store, project: str, task: str, source_key: str, records: Sequence[dict[str, Any]]
                      ) -> list[Identity | None]:
    """The pair identity of each source record (None: it has no id), looked up in one go."""
    ids = [None if is_blank(record.get(source_key)) else str(record.get(source_key)) for record in records]
    known = store.key_maps.lookup(project, task, TO_CDS, [i for i in ids if i is not None])
    return [None if i is None else identity_of([known.get(i) or derived_id(project, task, TO_CDS, i)]) for i in ids]


def chosen_source_ids(store: Store, project: str, task: str, identities: Iterable[str]) -> dict[str, str]:
    """The source id of each pair identity's source record, when the pair's baseline does not say it."""
    cds_ids = {identity: cds_id_of(identity) for identity in identities}
    known = store.key_maps.lookup(project, task, TO_SOURCE, list(cds_ids.values()))
    return {identity: known.get(cds_id) or derived_id(project, task, TO_SOURCE, cds_id)
            for identity, cds_id in cds_ids.items()}


def record_created(store: Store, project: str, task: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Record each (source id, CDS id) pair both ways, before either record is created."""
    if pairs:
        store.key_maps.record(project, task, TO_CDS, dict(pairs))
        store.key_maps.record(project, task, TO_SOURCE, {cds: source for source, cds in pairs})
