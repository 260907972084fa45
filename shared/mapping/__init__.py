"""The mapping engine: compile a task's field mappings once, then map records fast."""

from shared.mapping.compiler import (
    MISSING_BUSINESS_KEY,
    MISSING_SOURCE_ID,
    CompiledMapping,
    Failed,
    MappedRecord,
    Outcome,
    Skipped,
    compile_mapping,
    path_getter,
)
from shared.mapping.duplicates import (
    DUPLICATE_BUSINESS_KEY,
    SKIP_REASONS,
    NewestByKey,
    Rank,
    key_identity,
    recency,
)
from shared.mapping.transforms import LookupKey, TransformError, compile_transforms, is_blank

__all__ = [
    "DUPLICATE_BUSINESS_KEY",
    "MISSING_BUSINESS_KEY",
    "MISSING_SOURCE_ID",
    "SKIP_REASONS",
    "CompiledMapping",
    "Failed",
    "LookupKey",
    "MappedRecord",
    "NewestByKey",
    "Outcome",
    "Rank",
    "Skipped",
    "TransformError",
    "compile_mapping",
    "compile_transforms",
    "is_blank",
    "key_identity",
    "path_getter",
    "recency",
]
