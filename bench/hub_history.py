"""How big a run's orchestration histories get, read from the task hub's tables in Table Storage.

devhost keeps one `{hub}History` row per event of an instance's current generation and one
`checkpoint` row whose `EventCount` says how many events that generation holds (see
devhost/persistence.py); `{hub}Instances` has one row per instance, with its `Generation`.
Continue-as-new drops the old generation's rows, so a history that is cut into generations
is only ever seen whole while it lives: `HubHistory.sample` is called every second or two
during a run, and once after it, and keeps the largest count it saw per instance. The
largest history it reports is therefore the largest seen at a sample; a generation that
grows and ends between two samples may have been a little larger.

Only the checkpoint rows are read at a sample (one filtered query), never the events.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from azure.data.tables import TableServiceClient

CHECKPOINT_ROW = "checkpoint"


@dataclass(frozen=True)
class HistoryFigures:
    """What one run's instances came to."""

    instances: int
    """Instances the run made (rows new in `{hub}Instances`)."""
    executions: int
    """Their generations summed: each continue-as-new starts one more."""
    largest_history: int
    """The most events one generation of one instance held at any sample."""
    largest_instance: str
    samples: int


class HubHistory:
    """The History and Instances tables of one task hub, sampled for one run at a time."""

    def __init__(self, connection_string: str, hub: str) -> None:
        service = TableServiceClient.from_connection_string(connection_string)
        self._history = service.get_table_client(f"{hub}History")
        self._instances = service.get_table_client(f"{hub}Instances")
        self._lock = threading.Lock()
        self._before: frozenset[str] = frozenset()
        self._largest: dict[str, int] = {}
        self._samples = 0

    def begin(self) -> None:
        """Start watching a run: the instances that exist now are not the run's."""
        before = frozenset(self._generations())
        with self._lock:
            self._before = before
            self._largest = {}
            self._samples = 0

    def sample(self) -> None:
        """Read every checkpoint row once and keep each new instance's largest event count."""
        rows = self._history.query_entities(
            "RowKey eq @row", parameters={"row": CHECKPOINT_ROW}, select=["PartitionKey", "EventCount"]
        )
        counts = {row["PartitionKey"]: int(row["EventCount"]) for row in rows}
        with self._lock:
            for instance, count in counts.items():
                if instance not in self._before and count > self._largest.get(instance, 0):
                    self._largest[instance] = count
            self._samples += 1

    def end(self) -> HistoryFigures:
        """A last sample after the run, and the run's figures."""
        self.sample()
        generations = {key: generation for key, generation in self._generations().items() if key not in self._before}
        with self._lock:
            largest = max(self._largest.items(), key=lambda item: item[1], default=("", 0))
            samples = self._samples
        return HistoryFigures(
            instances=len(generations),
            executions=sum(generation + 1 for generation in generations.values()),
            largest_history=largest[1],
            largest_instance=largest[0],
            samples=samples,
        )

    def _generations(self) -> dict[str, int]:
        rows = self._instances.list_entities(select=["PartitionKey", "Generation"])
        return {row["PartitionKey"]: int(row.get("Generation") or 0) for row in rows}
