"""Projects and consent: a project's connections and ordered tasks, each task's sides and legs, and what
an admin accepts before a project exists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from shared.filters import parse_filter
from shared.limits import MAX_MAPPINGS_PER_LEG, MAX_TASKS
from shared.models.common import FieldName, FieldProblem, LegName, Name, SettingName, Strict, Value
from shared.models.transforms import DefaultTransform, FieldMapping
from shared.ncrontab import CronSchedule

CompanyCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,8}$")]
Schedule = Annotated[str, StringConstraints(pattern=r"^\S+( \S+){5}$")]
"""Six-field NCRONTAB, as Functions timer triggers take it: second minute hour day month day-of-week."""
Description = Annotated[str, StringConstraints(max_length=2000)]
_PATH_PART = r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*"
EntityName = Annotated[
    str, StringConstraints(max_length=256, strip_whitespace=True, pattern=rf"^{_PATH_PART}(/{_PATH_PART})*/?$")
]
"""A Dataverse entity set or F&O data entity (letters, digits, underscores), or a blob file or folder
(`imports/accounts.csv`, `exports/accounts/`): path parts of letters, digits, `_ -` and single dots between them."""
TaskName = Annotated[str, StringConstraints(min_length=1, max_length=128)]


ConnectionRole = Literal["source", "cds", "destination"]
ROLES: tuple[ConnectionRole, ...] = ("source", "cds", "destination")
"""The systems of a project in the order records flow through them."""


def _check_filter(expression: str) -> str:
    parse_filter(expression)  # FilterSyntaxError is a ValueError: pydantic reports it at the filter's path
    return expression


SourceFilter = Annotated[str, StringConstraints(min_length=1, max_length=4000), AfterValidator(_check_filter)]


class Endpoint(Strict):
    """One side of a task: which of the project's connections, which entity, which business key."""

    connection: ConnectionRole | None = None
    entity: EntityName
    key: list[FieldName] = Field(min_length=1, max_length=16)
    filter: SourceFilter | None = None
    """An OData `$filter` the source's records must match (evaluated on every record read)."""
    modifiedField: FieldName | None = None
    """When two records of a run share a business key, the one whose `modifiedField` is the most
    recent wins. Default: the system's own (`modifiedon`, `ModifiedDateTime`, a file's last change)."""


Direction = Literal["oneWay", "bidirectional"]
ConflictPolicy = Literal["sourceWins", "cdsWins", "manual"]
"""Who wins a field changed on both sides of a bidirectional task since the last sync, or `manual`: nobody,
until a person settles the conflict."""
DeletePolicy = Literal["ignore", "propagate", "restore"]
"""What a deletion on one side of a bidirectional task does: unlink the pair (`ignore`), delete the other side's
record (`propagate`), or create the deleted record again from the other side (`restore`)."""
_LEG_ROLES: dict[str, tuple[ConnectionRole, ConnectionRole]] = {
    "sourceToCds": ("source", "cds"), "cdsToDestination": ("cds", "destination"), "cdsToSource": ("cds", "source"),
}


class Task(Strict):
    """One entity's journey. `match` says how targets are found again on the next run:

    - `businessKey` (default): each side's `key` lists business-key fields, and records are
      upserted by them;
    - `keyMap`: for entities with no business key. Each side's `key` is the one field that
      identifies a record there (a Dataverse primary id such as `accountid`); the first run
      creates each target with an id derived from its source id and records the pair in a
      key map in Table Storage, later runs update that same target.

    `direction` is `oneWay` (source -> CDS -> destination) or `bidirectional`: source <-> CDS,
    no destination, each `sourceToCds` item flowing the way it says (FieldMapping.flow), the
    business key (or the key map) matching records, `conflicts` and `deletes` saying what a run does when both
    sides changed a field or one side deleted a record.
    """

    name: TaskName
    direction: Direction = Field(default="oneWay", exclude_if=lambda value: value == "oneWay")
    match: Literal["businessKey", "keyMap"] = "businessKey"
    conflicts: ConflictPolicy = Field(default="manual", exclude_if=lambda value: value == "manual")
    deletes: DeletePolicy = Field(default="ignore", exclude_if=lambda value: value == "ignore")
    source: Endpoint
    cds: Endpoint
    destination: Endpoint | None = None
    sourceToCds: list[FieldMapping] = Field(min_length=1, max_length=MAX_MAPPINGS_PER_LEG)
    cdsToDestination: list[FieldMapping] = Field(default_factory=list, max_length=MAX_MAPPINGS_PER_LEG)
    sourceDefaults: dict[FieldName, Value] = Field(default_factory=dict, max_length=MAX_MAPPINGS_PER_LEG,
                                                   exclude_if=lambda value: not value)
    """A bidirectional task's values for source fields no item writes back, given to a source record created from
    CDS (an F&O customer's group and currency); the constants of the `cdsToSource` leg."""

    @model_validator(mode="after")
    def _legs_are_consistent(self) -> Task:
        if self.match == "keyMap":
            for side, endpoint in self.endpoints():
                if len(endpoint.key) != 1:
                    message = "with a key map, key names the one field that identifies a record"
                    raise FieldProblem(f"{side}.key", message)
        _no_duplicate_targets(self.sourceToCds, "sourceToCds")
        _no_duplicate_targets(self.cdsToDestination, "cdsToDestination")
        if self.direction == "bidirectional":
            _check_two_way(self)
        else:
            _check_one_way(self)
        if self.destination is None and self.cdsToDestination:
            raise FieldProblem("destination", "cdsToDestination is given but the task has no destination")
        if self.destination is not None and not self.cdsToDestination:
            raise FieldProblem("cdsToDestination", "destination is given but cdsToDestination is empty")
        for side in ("cds", "destination"):
            endpoint: Endpoint | None = getattr(self, side)
            if endpoint is not None and endpoint.filter is not None:
                raise FieldProblem(f"{side}.filter", "only the source of a task can be filtered")
        return self

    @property
    def bidirectional(self) -> bool:
        return self.direction == "bidirectional"

    def endpoints(self) -> list[tuple[ConnectionRole, Endpoint]]:
        """The task's sides that are set, by role, in the order records flow through them."""
        return [(side, endpoint) for side in ROLES if (endpoint := getattr(self, side)) is not None]

    def flowing_back(self) -> list[tuple[int, FieldMapping]]:
        """The `sourceToCds` items (with their index) a bidirectional task writes back to the source, in order:
        the mappings of its `cdsToSource` leg, reversed."""
        if not self.bidirectional:
            return []
        return [(i, item) for i, item in enumerate(self.sourceToCds)
                if item.source is not None and item.flow(True) != "toTarget"]

    def legs(self) -> list[Leg]:
        """The legs of this task: a one-way task's in the order they run; a bidirectional task's two directions,
        `sourceToCds` (the items flowing to CDS, constants included) and `cdsToSource` (the items flowing back,
        reversed: FieldMapping.reversed)."""
        if self.bidirectional:
            to_cds = [item for item in self.sourceToCds if item.flow(True) != "toSource"]
            to_source = [item.reversed() for _, item in self.flowing_back()] + [
                FieldMapping(target=name, transforms=[DefaultTransform(transformType="Default", defaultValue=value)])
                for name, value in self.sourceDefaults.items()]
            return [Leg(name="sourceToCds", source=self.source, target=self.cds, mappings=to_cds, match=self.match),
                    Leg(name="cdsToSource", source=self.cds, target=self.source, mappings=to_source,
                        match=self.match)]
        legs = [Leg(name="sourceToCds", source=self.source, target=self.cds, mappings=self.sourceToCds,
                    match=self.match)]
        if self.destination is not None:
            legs.append(Leg(name="cdsToDestination", source=self.cds, target=self.destination,
                            mappings=self.cdsToDestination, match=self.match))
        return legs


class Leg(Strict):
    """A task's hop from one system to another: source -> CDS, CDS -> destination, or CDS -> source."""

    name: LegName
    source: Endpoint
    target: Endpoint
    mappings: list[FieldMapping]
    match: Literal["businessKey", "keyMap"] = "businessKey"

    def roles(self) -> tuple[ConnectionRole, ConnectionRole]:
        """The project connections the leg reads from and writes to: its endpoints' own, else the leg's sides."""
        sides = _LEG_ROLES[self.name]
        return self.source.connection or sides[0], self.target.connection or sides[1]


def _no_duplicate_targets(mappings: list[FieldMapping], where: str) -> None:
    seen: set[str] = set()
    for i, mapping in enumerate(mappings):
        if mapping.target in seen:
            raise FieldProblem(f"{where}.{i}.target", f"target {mapping.target!r} is mapped more than once")
        seen.add(mapping.target)


def _check_one_way(task: Task) -> None:
    """Refuse what only a bidirectional task takes: its policies, items flowing back, reverse transforms."""
    for policy in ("conflicts", "deletes", "sourceDefaults"):
        if policy in task.model_fields_set:
            raise FieldProblem(policy, f'{policy} is for a task with "direction": "bidirectional"')
    for leg in ("sourceToCds", "cdsToDestination"):
        for i, item in enumerate(getattr(task, leg)):
            if item.flow(False) != "toTarget":
                raise FieldProblem(f"{leg}.{i}.direction",
                                   'items flow back only in a task with "direction": "bidirectional"')
            if item.reverseTransforms:
                raise FieldProblem(f"{leg}.{i}.reverseTransforms",
                                   'reverseTransforms are for a task with "direction": "bidirectional"')


def _check_two_way(task: Task) -> None:
    """A bidirectional task: two systems, items that can flow the way they say, and records matched by a CDS
    business key both sides keep, or by a key map between the two sides' ids."""
    if task.destination is not None or task.cdsToDestination:
        raise FieldProblem("destination", "a bidirectional task syncs its source and CDS: it has no destination")
    if task.source.filter is not None:
        raise FieldProblem("source.filter", "a bidirectional task reads every record of both sides: a record a "
                           "filter left out would look deleted")
    written_back: set[str] = set()
    for name in task.sourceDefaults:
        if "." in name or "@" in name:
            raise FieldProblem(f"sourceDefaults.{name}", f"{name!r} is a path or an annotation: a default is given "
                               "to a plain source field")
    for i, item in enumerate(task.sourceToCds):
        _check_two_way_item(item, f"sourceToCds.{i}")
        if item.source is not None and item.flow(True) != "toTarget":
            if item.source in written_back:
                raise FieldProblem(f"sourceToCds.{i}.source",
                                   f"source field {item.source!r} is written back by more than one item")
            written_back.add(item.source)
            if item.source in task.sourceDefaults:
                raise FieldProblem(f"sourceDefaults.{item.source}",
                                   f"source field {item.source!r} is written back by item {i}: it needs no default")
    if task.match == "keyMap":
        _check_key_mapped_items(task)
        return
    both_ways = {item.target for item in task.sourceToCds if item.source is not None and item.flow(True) == "both"}
    for j, key_field in enumerate(task.cds.key):
        if key_field not in both_ways:
            raise FieldProblem(f"cds.key.{j}", f"business key field {key_field!r} must be mapped both ways "
                               "from a source field, so that both sides hold it")


def _check_key_mapped_items(task: Task) -> None:
    """With a key map, each side's key is its records' own id, which the key map gives: no item writes it."""
    for i, item in enumerate(task.sourceToCds):
        if item.target == task.cds.key[0]:
            raise FieldProblem(f"sourceToCds.{i}.target", f"{item.target!r} is the CDS id the key map gives: "
                               "no item writes it")
        if item.source == task.source.key[0] and item.flow(True) != "toTarget":
            raise FieldProblem(f"sourceToCds.{i}.source", f"{item.source!r} is the source id the key map gives: "
                               'no item writes it back (give this one "direction": "toTarget")')


def _check_two_way_item(item: FieldMapping, where: str) -> None:
    flow = item.flow(True)
    if flow == "toTarget":
        if item.reverseTransforms:
            raise FieldProblem(f"{where}.reverseTransforms", "reverseTransforms are for items flowing to the source")
        return
    if flow == "both" and item.transforms and not item.reverseTransforms:
        raise FieldProblem(f"{where}.reverseTransforms", "an item with transforms that flows both ways needs "
                           "reverseTransforms: how a CDS value becomes a source value")
    if flow == "toSource" and item.transforms:
        raise FieldProblem(f"{where}.transforms", "an item flowing to the source only takes reverseTransforms")
    for side, name in (("source", item.source), ("target", item.target)):
        if name is not None and ("." in name or "@" in name):
            raise FieldProblem(f"{where}.{side}", f"{name!r} is a path or an annotation: an item flowing to the "
                               'source reads and writes plain fields (give this one "direction": "toTarget")')


class ProjectConnections(Strict):
    source: Name
    cds: Name
    destination: Name | None = None

    def by_role(self) -> dict[ConnectionRole, str]:
        """The names of the project's connections by role, in flow order, leaving out a role without one."""
        return {role: name for role in ROLES if (name := getattr(self, role)) is not None}


class Notify(Strict):
    """Tell a webhook (a Logic App, a Teams workflow) when a run ends with one of `on`.

    The webhook's URL is read from the app setting `webhookSetting` when a run ends: it often
    carries a signature, so it is never stored with the project.
    """

    on: list[Literal["Succeeded", "Warning", "Failed", "Terminated"]] = Field(min_length=1, max_length=4)
    webhookSetting: SettingName


def _check_schedule(expression: str | None) -> str | None:
    if expression is not None:
        CronSchedule.parse(expression).next_after(_SCHEDULE_CHECK_FROM)  # ScheduleError is a ValueError too
    return expression


_SCHEDULE_CHECK_FROM = datetime(2000, 1, 1, tzinfo=UTC)
"""Schedules are checked for an occurrence after a fixed moment, so saving never depends on the clock."""
ValidSchedule = Annotated[Schedule, AfterValidator(_check_schedule)]


class ProjectSettings(Strict):
    """What a project definition and a request to create one have in common."""

    name: Name
    description: Description | None = None
    template: Name | None = None
    connections: ProjectConnections
    companyCode: CompanyCode | None = None
    schedule: ValidSchedule | None = None
    scheduleMode: Literal["full", "incremental"] = "incremental"
    notify: Notify | None = None


class ProjectDefinition(ProjectSettings):
    """What a project is: its connections and its ordered tasks. Templates carry the same shape."""

    tasks: list[Task] = Field(min_length=1, max_length=MAX_TASKS)

    @model_validator(mode="after")
    def _tasks_fit_connections(self) -> ProjectDefinition:
        names: set[str] = set()
        for i, task in enumerate(self.tasks):
            if task.name in names:
                raise FieldProblem(f"tasks.{i}.name", f"task name {task.name!r} is used twice")
            names.add(task.name)
            if task.destination is not None and self.connections.destination is None:
                raise FieldProblem(
                    "connections.destination", f"task {task.name!r} has a destination but this field is not set"
                )
        return self

    def systems(self) -> list[str]:
        """The connection names this project moves data between, in flow order."""
        return list(self.connections.by_role().values())


class DataResidency(Strict):
    from_: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(alias="from")
    to: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Consent(Strict):
    """What an admin gives before a project exists."""

    accepted: bool
    acceptedBy: Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]
    noticeVersion: Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
    dataResidency: DataResidency | None = None


class ConsentRecord(Strict):
    """What is kept of a consent, append-only, also after its project is deleted."""

    project: Name
    acceptedBy: str
    acceptedAt: datetime
    noticeVersion: str
    systems: list[str]
    dataResidency: DataResidency | None = None
    definitionHash: str


class ProjectRequest(ProjectSettings):
    """The body of `POST /api/projects`: a definition (or a template to take the tasks from) and consent."""

    tasks: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_TASKS)
    consent: Consent | None = None

    @model_validator(mode="after")
    def _template_or_tasks(self) -> ProjectRequest:
        if (self.template is None) == (self.tasks is None):
            raise FieldProblem("tasks", "give either template or tasks")
        return self
