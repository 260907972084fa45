"""The domain model: what the HTTP API accepts, what the store keeps, what a run reports.

Every model forbids unknown fields, so a typo in a definition is an error that names the
field instead of a silently ignored setting. Field names follow the JSON of API.md
(camelCase), because that is the format users paste and templates carry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from shared.filters import FilterSyntaxError, parse_filter
from shared.limits import (
    MAX_MAPPINGS_PER_LEG,
    MAX_TASKS,
    MAX_TRANSFORMS_PER_MAPPING,
    MAX_VALUE_DEPTH,
    MAX_VALUE_MAP_ENTRIES,
    value_depth,
)
from shared.ncrontab import CronSchedule, ScheduleError
from shared.patterns import PatternError, compile_pattern
from shared.url_credentials import credentials_in_url

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
"""A name used in a path: a connection, a project or a run id."""

CompanyCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,8}$")]
Schedule = Annotated[str, StringConstraints(pattern=r"^\S+( \S+){5}$")]
"""Six-field NCRONTAB, as Functions timer triggers take it: second minute hour day month day-of-week."""
Description = Annotated[str, StringConstraints(max_length=2000)]
ODATA_FIELD_PATTERN = r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*(@[A-Za-z][A-Za-z0-9_.]*)?$"
"""A field, or a dotted path through lookups (`customerid_account.accountnumber`, `lines.0.sku`), as Dataverse
and F&O name them: letters, digits and underscores; the last part may carry an OData annotation
(`parentcustomerid_account@odata.bind`). Nothing in it can close a URL segment, a query option or a string."""
_FIELD_PART = r"[^\x00-\x1f\x7f.@'\"(),;$&=?#/\\\[\]{}]+"
FieldName = Annotated[
    str,
    StringConstraints(
        max_length=256, strip_whitespace=True,
        pattern=rf"^{_FIELD_PART}(\.{_FIELD_PART})*(@[A-Za-z][A-Za-z0-9_.]*)?$",
    ),
]
"""A field or a dotted path, as any system may name it: a file's header may be text without control
characters, dots, `@`, quotes, brackets or the characters that delimit URLs and query options
(`Account Number`, `e-mail`, `Straße`). Where a side is Dataverse or F&O its names are held to
`ODATA_FIELD_PATTERN` when the project is saved (shared/entity_names.py), once the side's system is known."""
ODataFieldName = Annotated[str, StringConstraints(max_length=256, strip_whitespace=True, pattern=ODATA_FIELD_PATTERN)]
"""A field of a Dataverse or F&O entity: letters, digits and underscores (see `ODATA_FIELD_PATTERN`)."""
_PATH_PART = r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*"
EntityName = Annotated[
    str, StringConstraints(max_length=256, strip_whitespace=True, pattern=rf"^{_PATH_PART}(/{_PATH_PART})*/?$")
]
"""A Dataverse entity set or F&O data entity (letters, digits, underscores), or a blob file or folder
(`imports/accounts.csv`, `exports/accounts/`): path parts of letters, digits, `_ -` and single dots between them."""
TaskName = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class FieldProblem(ValueError):
    """A validator's complaint about one field, by its path relative to the model being validated."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def exactly_one(model: BaseModel, first: str, second: str) -> None:
    """Refuse a model that sets both or neither of two alternative fields, naming the first."""
    if (getattr(model, first) is None) == (getattr(model, second) is None):
        raise FieldProblem(first, f"give exactly one of {first} or {second}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


def _shallow(value: Any) -> Any:
    if value_depth(value) > MAX_VALUE_DEPTH:
        raise ValueError(f"objects and arrays nest more than {MAX_VALUE_DEPTH} deep in this value")
    return value


Value = Annotated[Any, AfterValidator(_shallow)]
"""A value a definition gives for a field (`defaultValue`, `then`): any JSON, nested at most MAX_VALUE_DEPTH deep."""


# --- transforms -----------------------------------------------------------------------


class DefaultTransform(Strict):
    """Fill a missing, null or blank value with `defaultValue`."""

    transformType: Literal["Default"]
    defaultValue: Value


class ValueMapTransform(Strict):
    """Translate a value through `valueMap`; keys match case-insensitively after trimming.

    A value with no entry passes through unchanged (`onUnmapped: "passthrough"`), becomes
    `defaultValue` (`"default"`) or fails the record on this field (`"error"`).
    """

    transformType: Literal["ValueMap"]
    valueMap: dict[str, Value] = Field(max_length=MAX_VALUE_MAP_ENTRIES)
    onUnmapped: Literal["passthrough", "default", "error"] = "passthrough"
    defaultValue: Value = None

    @model_validator(mode="after")
    def _default_needs_value(self) -> ValueMapTransform:
        if self.onUnmapped == "default" and "defaultValue" not in self.model_fields_set:
            raise FieldProblem("defaultValue", 'onUnmapped "default" needs a defaultValue')
        folded: dict[str, str] = {}
        for key in self.valueMap:
            norm = key.strip().casefold()
            if norm in folded:
                raise FieldProblem("valueMap", f"keys {folded[norm]!r} and {key!r} are the same key")
            folded[norm] = key
        return self


class ConcatPart(Strict):
    """A piece of a Concat: the value of a field (a dotted path), or literal text."""

    field: FieldName | None = None
    literal: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ConcatPart:
        exactly_one(self, "field", "literal")
        return self


class ConcatTransform(Strict):
    """Join fields and literals with `separator`; blank fields are left out. Comes first, without `source`."""

    transformType: Literal["Concat"]
    parts: list[ConcatPart] = Field(min_length=1, max_length=32)
    separator: Annotated[str, StringConstraints(max_length=100)] = ""


class LookupTransform(Strict):
    """Resolve a business key to the id of the `entitySet` record with that `keyField`: `/accounts(<id>)`.

    Map it to `<navigation property>@odata.bind` of a Dataverse target. Ids are looked up in
    the target system before writing, each key once per run; a key that matches no record
    fails that record on that field (code `LookupNotFound`).
    """

    transformType: Literal["Lookup"]
    entitySet: ODataFieldName
    keyField: ODataFieldName


class TruncateTransform(Strict):
    """Cut text to `maxLength` characters: an explicit choice, so nothing is cut silently."""

    transformType: Literal["Truncate"]
    maxLength: int = Field(ge=1, le=1_000_000)


class TrimTransform(Strict):
    transformType: Literal["Trim"]


class UpperTransform(Strict):
    transformType: Literal["Upper"]


class LowerTransform(Strict):
    transformType: Literal["Lower"]


class FormatTransform(Strict):
    """Convert a value to the type its target takes, culture-neutral.

    `integer` (1.0 -> 1; 1.5 is an error), `number`, `text` (numbers without exponent,
    booleans as true/false), `date` (any ISO date-time -> `YYYY-MM-DD`), `datetime`
    (ISO, as UTC `YYYY-MM-DDTHH:MM:SSZ`; a bare date is midnight UTC). Missing values stay
    missing. `pattern` writes dates as text with strftime codes (`%d.%m.%Y`); `decimals`
    rounds numbers (half to even) and writes text with that many decimals, `.` as separator.
    """

    transformType: Literal["Format"]
    to: Literal["integer", "number", "text", "date", "datetime"]
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    decimals: int | None = Field(default=None, ge=0, le=12)

    @model_validator(mode="after")
    def _options_fit(self) -> FormatTransform:
        if self.pattern is not None and self.to not in ("date", "datetime"):
            raise FieldProblem("pattern", "a pattern formats dates: use it with to date or datetime")
        if self.decimals is not None and self.to not in ("number", "text"):
            raise FieldProblem("decimals", "decimals round numbers: use them with to number or text")
        return self


class SplitTransform(Strict):
    """Part `index` (from 0; negative counts from the end) of the text cut at `separator`."""

    transformType: Literal["Split"]
    separator: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    index: int = Field(ge=-1000, le=1000)


class SubstringTransform(Strict):
    """`length` characters (all the rest when absent) from `start` (from 0)."""

    transformType: Literal["Substring"]
    start: int = Field(ge=0, le=1_000_000)
    length: int | None = Field(default=None, ge=0, le=1_000_000)


class ReplaceTransform(Strict):
    """Replace every `find` (literal text) or every match of `pattern` (an RE2 regular expression, shared/patterns.py)
    with `replaceWith`."""

    transformType: Literal["Replace"]
    find: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    replaceWith: Annotated[str, StringConstraints(max_length=1000)] = ""

    @model_validator(mode="after")
    def _find_or_pattern(self) -> ReplaceTransform:
        exactly_one(self, "find", "pattern")
        if self.pattern is not None:
            try:
                compile_pattern(self.pattern)
            except PatternError as exc:
                raise FieldProblem("pattern", str(exc)) from None
        return self


class ConditionalTransform(Strict):
    """When the value equals `equals` (or, with `isEmpty`, is missing or blank): `then`; else `else`.

    Without `else` a value that does not match passes through unchanged.
    """

    transformType: Literal["Conditional"]
    equals: Value = None
    isEmpty: bool = False
    then: Value
    else_: Value = Field(default=None, alias="else")

    @model_validator(mode="after")
    def _one_test(self) -> ConditionalTransform:
        if self.isEmpty == ("equals" in self.model_fields_set):
            raise FieldProblem("equals", "give exactly one test: equals, or isEmpty true")
        return self


class ConstantTransform(Strict):
    """Always `value`, whatever the source holds."""

    transformType: Literal["Constant"]
    value: Value


Transform = Annotated[
    DefaultTransform | ValueMapTransform | ConcatTransform | LookupTransform | TruncateTransform | TrimTransform
    | UpperTransform | LowerTransform | FormatTransform | SplitTransform | SubstringTransform | ReplaceTransform
    | ConditionalTransform | ConstantTransform,
    Field(discriminator="transformType"),
]
TRANSFORM_TYPES = frozenset(
    {"Default", "ValueMap", "Concat", "Lookup", "Truncate", "Trim", "Upper", "Lower", "Format", "Split", "Substring",
     "Replace", "Conditional", "Constant"}
)


class FieldMapping(Strict):
    """One target field: read `source` (a dotted path, or nothing for a constant), then transform."""

    source: FieldName | None = None
    target: FieldName
    transforms: list[Transform] = Field(default_factory=list, max_length=MAX_TRANSFORMS_PER_MAPPING)

    @model_validator(mode="after")
    def _constant_needs_value(self) -> FieldMapping:
        for i, transform in enumerate(self.transforms):
            if isinstance(transform, ConcatTransform) and (i > 0 or self.source is not None):
                raise FieldProblem(f"transforms.{i}", "Concat reads its own fields: put it first, with no source")
        if self.source is None and not self.transforms:
            raise FieldProblem("source", f"{self.target!r} has no source and no transform to give it a value")
        return self


# --- projects and tasks -------------------------------------------------------------------

ConnectionRole = Literal["source", "cds", "destination"]
ROLES: tuple[ConnectionRole, ...] = ("source", "cds", "destination")
"""The systems of a project in the order records flow through them."""


def _check_filter(expression: str) -> str:
    try:
        parse_filter(expression)
    except FilterSyntaxError as exc:
        raise ValueError(exc.message) from None
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


class Task(Strict):
    """One entity's journey. `match` says how targets are found again on the next run:

    - `businessKey` (default): each side's `key` lists business-key fields, and records are
      upserted by them;
    - `keyMap`: for entities with no business key. Each side's `key` is the one field that
      identifies a record there (a Dataverse primary id such as `accountid`); the first run
      creates each target with an id derived from its source id and records the pair in a
      key map in Table Storage, later runs update that same target.
    """

    name: TaskName
    match: Literal["businessKey", "keyMap"] = "businessKey"
    source: Endpoint
    cds: Endpoint
    destination: Endpoint | None = None
    sourceToCds: list[FieldMapping] = Field(min_length=1, max_length=MAX_MAPPINGS_PER_LEG)
    cdsToDestination: list[FieldMapping] = Field(default_factory=list, max_length=MAX_MAPPINGS_PER_LEG)

    @model_validator(mode="after")
    def _legs_are_consistent(self) -> Task:
        if self.match == "keyMap":
            for side, endpoint in self.endpoints():
                if len(endpoint.key) != 1:
                    message = "with a key map, key names the one field that identifies a record"
                    raise FieldProblem(f"{side}.key", message)
        _no_duplicate_targets(self.sourceToCds, "sourceToCds")
        _no_duplicate_targets(self.cdsToDestination, "cdsToDestination")
        if self.destination is None and self.cdsToDestination:
            raise FieldProblem("destination", "cdsToDestination is given but the task has no destination")
        if self.destination is not None and not self.cdsToDestination:
            raise FieldProblem("cdsToDestination", "destination is given but cdsToDestination is empty")
        for side in ("cds", "destination"):
            endpoint: Endpoint | None = getattr(self, side)
            if endpoint is not None and endpoint.filter is not None:
                raise FieldProblem(f"{side}.filter", "only the source of a task can be filtered")
        return self

    def endpoints(self) -> list[tuple[ConnectionRole, Endpoint]]:
        """The task's sides that are set, by role, in the order records flow through them."""
        return [(side, endpoint) for side in ROLES if (endpoint := getattr(self, side)) is not None]

    def legs(self) -> list[Leg]:
        """The legs of this task in the order they run."""
        legs = [Leg(name="sourceToCds", source=self.source, target=self.cds, mappings=self.sourceToCds,
                    match=self.match)]
        if self.destination is not None:
            legs.append(Leg(name="cdsToDestination", source=self.cds, target=self.destination,
                            mappings=self.cdsToDestination, match=self.match))
        return legs


class Leg(Strict):
    """A task's hop from one system to the next: source -> CDS or CDS -> destination."""

    name: Literal["sourceToCds", "cdsToDestination"]
    source: Endpoint
    target: Endpoint
    mappings: list[FieldMapping]
    match: Literal["businessKey", "keyMap"] = "businessKey"

    def roles(self) -> tuple[ConnectionRole, ConnectionRole]:
        """The project connections the leg reads from and writes to: its endpoints' own, else the leg's sides."""
        sides: tuple[ConnectionRole, ConnectionRole] = (
            ("source", "cds") if self.name == "sourceToCds" else ("cds", "destination"))
        return self.source.connection or sides[0], self.target.connection or sides[1]


def _no_duplicate_targets(mappings: list[FieldMapping], where: str) -> None:
    seen: set[str] = set()
    for i, mapping in enumerate(mappings):
        if mapping.target in seen:
            raise FieldProblem(f"{where}.{i}.target", f"target {mapping.target!r} is mapped more than once")
        seen.add(mapping.target)


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
    webhookSetting: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]


def _check_schedule(expression: str | None) -> str | None:
    if expression is not None:
        try:
            CronSchedule.parse(expression).next_after(_SCHEDULE_CHECK_FROM)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
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
        return [c for c in (self.connections.source, self.connections.cds, self.connections.destination) if c]


class ProjectRequest(ProjectSettings):
    """The body of `POST /api/projects`: a definition (or a template to take the tasks from) and consent."""

    tasks: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_TASKS)
    consent: Consent | None = None

    @model_validator(mode="after")
    def _template_or_tasks(self) -> ProjectRequest:
        if (self.template is None) == (self.tasks is None):
            raise FieldProblem("tasks", "give either template or tasks")
        return self


# --- consent ------------------------------------------------------------------------------------


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


# --- connections -------------------------------------------------------------------------------


SecretUri = Annotated[str, StringConstraints(pattern=r"^https?://\S{1,2000}$")]
"""Where the secret is: which hosts may be named is shared/connection_rules.py's to say, on save and before a token
is sent, so a connection stored before that rule (or altered in storage) still loads, and never gets a token."""


_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_DOMAIN = r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
TenantId = Annotated[str, StringConstraints(max_length=253, pattern=rf"^({_GUID}|{_DOMAIN})$")]
"""A Microsoft Entra tenant: its id, or one of its verified domains (`contoso.onmicrosoft.com`). It becomes a path
segment of the token authority's URL, where anything else would name another endpoint or fail inside MSAL."""


class ClientSecretAuth(Strict):
    """A client secret referenced by an app setting name or a Key Vault secret URI, never the secret."""

    type: Literal["clientSecret"]
    tenantId: TenantId
    clientId: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    secretSetting: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")] | None = None
    secretUri: SecretUri | None = None

    @model_validator(mode="after")
    def _exactly_one_reference(self) -> ClientSecretAuth:
        exactly_one(self, "secretSetting", "secretUri")
        return self


class ManagedIdentityAuth(Strict):
    type: Literal["managedIdentity"]
    clientId: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class NoAuth(Strict):
    """No credentials: only for the local sandbox systems."""

    type: Literal["none"]


Auth = Annotated[ClientSecretAuth | ManagedIdentityAuth | NoAuth, Field(discriminator="type")]


class Connection(Strict):
    kind: Literal["dataverse", "finops", "blob"]
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")]
    auth: Auth


SECRET_FIELD_NAMES = frozenset(
    {
        "secret", "clientsecret", "password", "pwd", "secretvalue", "accountkey", "apikey",
        "token", "accesstoken", "connectionstring", "sas", "sastoken",
    }
)


def find_raw_secrets(data: Any, path: str = "") -> list[str]:
    """Paths of every property in `data` whose name says it holds a secret value, or whose URL carries one."""
    found: list[str] = []
    if isinstance(data, str) and credentials_in_url(data):
        found.append(path)
    elif isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).replace("_", "").replace("-", "").casefold() in SECRET_FIELD_NAMES:
                found.append(here)
            found.extend(find_raw_secrets(value, here))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.extend(find_raw_secrets(value, f"{path}.{i}" if path else str(i)))
    return found


# --- runs and their outcome ---------------------------------------------------------------------


class RunStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    WARNING = "Warning"
    FAILED = "Failed"
    TERMINATED = "Terminated"
    SKIPPED = "Skipped"

    @property
    def active(self) -> bool:
        return self in (RunStatus.PENDING, RunStatus.RUNNING)


class RunMode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    FAILED_ONLY = "failedOnly"


class Counts(Strict):
    read: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0

    def balanced(self) -> bool:
        """Nothing lost silently: every record read ended as written, skipped or failed."""
        return self.read == self.written + self.skipped + self.failed


class LegOutcome(Counts):
    leg: Literal["sourceToCds", "cdsToDestination"]
    skippedReasons: dict[str, int] = Field(default_factory=dict)
    deletedInSource: int = 0


class TaskOutcome(Counts):
    """A task's counts, summed over its legs; `legs` has each leg's own."""

    name: str
    status: RunStatus = RunStatus.PENDING
    legs: list[LegOutcome] = Field(default_factory=list)
    message: str | None = None


class Run(Strict):
    runId: Name
    projectId: Name
    status: RunStatus = RunStatus.PENDING
    mode: RunMode = RunMode.FULL
    dryRun: bool = False
    createdTime: datetime
    lastUpdatedTime: datetime
    tasks: list[TaskOutcome] = Field(default_factory=list)
    message: str | None = None


class TaskState(Strict):
    """Where an incremental read of one task's leg resumes: a delta link or a watermark."""

    project: Name
    task: str
    leg: Literal["sourceToCds", "cdsToDestination"]
    state: dict[str, Any]
    runId: Name
    savedAt: datetime


class ErrorRecord(Strict):
    """One record that failed to reach its target, with enough to find and fix it."""

    runId: Name
    task: str
    leg: Literal["sourceToCds", "cdsToDestination"]
    businessKey: dict[str, Any]
    field: str | None = None
    code: str
    message: str
    record: dict[str, Any]


# --- turning validation errors into field-named problems ----------------------------------------

_UNION_TAGS = TRANSFORM_TYPES | {"clientSecret", "managedIdentity", "none"}


def field_path(loc: tuple[int | str, ...]) -> str:
    """`tasks.0.sourceToCds.1.transforms.0.defaultValue`: the JSON path of an error, without union tags."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        after_union_member = i > 0 and (isinstance(loc[i - 1], int) or loc[i - 1] == "auth")
        if isinstance(part, str) and part in _UNION_TAGS and after_union_member:
            continue
        parts.append("from" if part == "from_" else str(part))
    return ".".join(parts)


def problems(exc: ValidationError) -> list[dict[str, str]]:
    """`[{"field", "message"}]` for every error pydantic found, in the API's problem format."""
    found = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        loc = tuple(error["loc"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, FieldProblem):
            loc = (*loc, *cause.field.split("."))
            message = cause.message
        elif error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, str(error.get("ctx", {}).get("discriminator", "")).strip("'"))
        found.append({"field": field_path(loc), "message": message})
    return found
