"""The domain model: what the HTTP API accepts, what the store keeps, what a run reports, by subject.

    common        the strict base, names, FieldProblem (a validator's complaint about one field)
    transforms    transforms and field mappings
    projects      projects, their tasks, sides and legs, schedules, notifications, consent
    connections   connections, their auth by reference, and the scan for raw secrets
    runs          runs, their counts and outcomes, error records, incremental state, two-way conflicts

Every model forbids unknown fields, so a typo in a definition is an error that names the
field instead of a silently ignored setting. Field names follow the JSON of API.md
(camelCase), because that is the format users paste and templates carry. Turning a
validation error into the API's problems is api/'s job (api/body_problems.py).
"""

from shared.models.common import (
    ODATA_FIELD_PATTERN,
    FieldName,
    FieldProblem,
    LegName,
    Name,
    ODataFieldName,
    SettingName,
    Strict,
    Value,
    exactly_one,
)
from shared.models.connections import (
    AUTH_TYPES,
    SECRET_FIELD_NAMES,
    Auth,
    ClientSecretAuth,
    Connection,
    ManagedIdentityAuth,
    NoAuth,
    SecretUri,
    TenantId,
    find_raw_secrets,
)
from shared.models.projects import (
    ROLES,
    CompanyCode,
    ConflictPolicy,
    ConnectionRole,
    Consent,
    ConsentRecord,
    DataResidency,
    DeletePolicy,
    Description,
    Direction,
    Endpoint,
    EntityName,
    Leg,
    Notify,
    ProjectConnections,
    ProjectDefinition,
    ProjectRequest,
    ProjectSettings,
    Schedule,
    SourceFilter,
    Task,
    TaskName,
    ValidSchedule,
)
from shared.models.runs import (
    Conflict,
    ConflictResolution,
    ConflictSide,
    ConflictState,
    Counts,
    ErrorRecord,
    LegOutcome,
    Run,
    RunMode,
    RunStatus,
    TaskOutcome,
    TaskState,
    conflict_id,
)
from shared.models.transforms import (
    TRANSFORM_TYPES,
    ConcatPart,
    ConcatTransform,
    ConditionalTransform,
    ConstantTransform,
    DefaultTransform,
    FieldMapping,
    FormatTransform,
    ItemDirection,
    LookupTransform,
    LowerTransform,
    ReplaceTransform,
    SplitTransform,
    SubstringTransform,
    Transform,
    TrimTransform,
    TruncateTransform,
    UpperTransform,
    ValueMapTransform,
)

__all__ = [
    "AUTH_TYPES", "ODATA_FIELD_PATTERN", "ROLES", "SECRET_FIELD_NAMES", "TRANSFORM_TYPES", "Auth", "ClientSecretAuth",
    "CompanyCode", "ConcatPart", "ConcatTransform", "ConditionalTransform", "Conflict", "ConflictPolicy",
    "ConflictResolution", "ConflictSide", "ConflictState", "Connection", "ConnectionRole", "Consent", "ConsentRecord",
    "ConstantTransform", "Counts", "DataResidency", "DefaultTransform", "DeletePolicy", "Description", "Direction",
    "Endpoint", "EntityName", "ErrorRecord", "FieldMapping", "FieldName", "FieldProblem", "FormatTransform",
    "ItemDirection", "Leg", "LegName", "LegOutcome", "LookupTransform", "LowerTransform", "ManagedIdentityAuth", "Name",
    "NoAuth", "Notify", "ODataFieldName", "ProjectConnections", "ProjectDefinition", "ProjectRequest",
    "ProjectSettings", "ReplaceTransform", "Run", "RunMode", "RunStatus", "Schedule", "SecretUri", "SettingName",
    "SourceFilter", "SplitTransform", "Strict", "SubstringTransform", "Task", "TaskName", "TaskOutcome", "TaskState",
    "TenantId", "Transform", "TrimTransform", "TruncateTransform", "UpperTransform", "ValidSchedule", "Value",
    "ValueMapTransform", "conflict_id", "exactly_one", "find_raw_secrets"
]
