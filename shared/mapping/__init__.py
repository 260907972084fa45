"""The mapping engine: compile a task's field mappings once, then map records fast."""

from shared.mapping.compiler import (
    DUPLICATE_BUSINESS_KEY,
    MISSING_BUSINESS_KEY,
    CompiledMapping,
    Failed,
    MappedRecord,
    Outcome,
    Skipped,
    compile_mapping,
    path_getter,
)
from shared.mapping.duplicates import LatestByKey, SourcePosition, key_identity
from shared.mapping.page import PageResult, map_page
from shared.mapping.transforms import LookupKey, TransformError, compile_transforms, is_blank

__all__ = [
    "DUPLICATE_BUSINESS_KEY",
    "MISSING_BUSINESS_KEY",
    "CompiledMapping",
    "Failed",
    "LatestByKey",
    "LookupKey",
    "MappedRecord",
    "Outcome",
    "PageResult",
    "Skipped",
    "SourcePosition",
    "TransformError",
    "compile_mapping",
    "compile_transforms",
    "is_blank",
    "key_identity",
    "map_page",
    "path_getter",
]
