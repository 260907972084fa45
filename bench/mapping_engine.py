"""Records per second of the mapping engine on one core: 20 mapped fields, 3 value maps.

    .venv/bin/python -m bench.mapping_engine [--records N] [--rounds R]

Prints one JSON line; `make bench` collects it with the other scenarios.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

from pydantic import TypeAdapter

from shared.mapping import MappedRecord, compile_mapping
from shared.models import FieldMapping

COUNTRIES = {"us": "US", "usa": "US", "united States of America": "US", "germany": "DE", "deu": "DE", "": "US"}
STATES = {"wa": "Washington", "ny": "New York", "ca": "California", "tx": "Texas"}
CATEGORIES = {"1": "Preferred", "2": "Standard", "3": "Occasional"}


def twenty_field_mapping() -> list[FieldMapping]:
    """The benchmark's mapping: 14 copies, 1 dotted path, 2 defaults, 3 value maps."""
    items: list[dict[str, Any]] = [{"source": f"field{i:02d}", "target": f"Target{i:02d}"} for i in range(14)]
    items.append({"source": "primarycontactid.fullname", "target": "ContactName"})
    items.append({"source": "industry", "target": "Industry",
                  "transforms": [{"transformType": "Default", "defaultValue": "Other"}]})
    items.append({"target": "CustomerGroupId", "transforms": [{"transformType": "Default", "defaultValue": "10"}]})
    items.append({"source": "country", "target": "Country",
                  "transforms": [{"transformType": "ValueMap", "valueMap": COUNTRIES}]})
    items.append({"source": "state", "target": "State",
                  "transforms": [{"transformType": "ValueMap", "valueMap": STATES}]})
    items.append({"source": "category", "target": "Category",
                  "transforms": [{"transformType": "ValueMap", "valueMap": CATEGORIES}]})
    return TypeAdapter(list[FieldMapping]).validate_python(items)


def sample_records(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    countries = ["United States of America ", "usa", "germany", "Narnia", "", None]
    records = []
    for i in range(n):
        record: dict[str, Any] = {f"field{j:02d}": f"value {i} {j}" for j in range(14)}
        record["field00"] = f"ACC-{i:07d}"
        record["primarycontactid"] = {"fullname": f"Contact {i}"}
        record["industry"] = rng.choice(["Retail", "", None])
        record["country"] = rng.choice(countries)
        record["state"] = rng.choice(["WA", "ny", "Ca ", "XX"])
        record["category"] = rng.choice([1, 2, 3, None])
        records.append(record)
    return records


def measure(records: int, rounds: int) -> dict[str, Any]:
    apply = compile_mapping(twenty_field_mapping(), ["Target00"])
    data = sample_records(records)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        mapped = sum(1 for outcome in map(apply, data) if outcome.__class__ is MappedRecord)
        best = min(best, time.perf_counter() - start)
    assert mapped == records
    return {"scenario": "mapping", "records": records, "fields": 20, "value_maps": 3,
            "best_s": round(best, 4), "mapping_rps": round(records / best)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure(args.records, args.rounds)))


if __name__ == "__main__":
    main()
