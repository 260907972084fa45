"""Generated sample data sets, loaded with `--dataset NAME` into an empty store.

A data set is a function `(system, records=, seed=, companies=) -> {entity_set: [record]}`
returning raw records in the admin seeding format; the same seed gives the same records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sandbox.admin import seed_records
from sandbox.datasets import prospect_to_cash
from sandbox.storage import Query, Store

Generator = Callable[..., dict[str, list[dict[str, Any]]]]
DATASETS: dict[str, Generator] = {"prospect-to-cash": prospect_to_cash.generate}


def load_dataset(name: str, store: Store, *, records: int, seed: int, companies: Sequence[str]) -> bool:
    """Load a data set unless its entity sets already hold records; True when loaded."""
    data = DATASETS[name](store.system, records=records, seed=seed, companies=companies)
    if any(store.count(store.entities[entity_set], Query()) for entity_set in data):
        return False
    default_company = companies[0] if store.system == "finops" else None
    for entity_set, rows in data.items():
        seed_records(store, store.entities[entity_set], rows, default_company)
    return True
