"""The Dataverse Web API's error codes and messages, as `ServiceError`s.

The body is always `{"error": {"code": "0x...", "message": "..."}}`; the codes are the
platform's hexadecimal error codes (the SDK reports the same numbers as negative ints).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.entities import Entity, FieldError
from sandbox.messages import ServiceError

QUERY = "0x0"
RESOURCE_NOT_FOUND = "0x8006088a"
OBJECT_DOES_NOT_EXIST = "0x80040217"
DUPLICATE_RECORD = "0x80040237"
DUPLICATE_RECORD_ENTITY_KEY = "0x80060892"
INVALID_ARGUMENT = "0x80040203"
STRING_TOO_LONG = "0x80044331"
VALUE_OUT_OF_RANGE = "0x8004431a"
PAYLOAD = "0x80048d19"
CONCURRENCY_VERSION_MISMATCH = "0x80060882"
CHANGE_TRACKING_DISABLED = "0x80072491"
REQUESTS_LIMIT = "0x80072322"
EXECUTION_TIME_LIMIT = "0x80072321"
CONCURRENCY_LIMIT = "0x80072326"
UNAUTHORIZED = "0x80072560"
SERVICE_UNAVAILABLE = "0x80040216"


def query_error(message: str) -> ServiceError:
    return ServiceError(400, message, QUERY)


def segment_not_found(segment: str) -> ServiceError:
    return ServiceError(404, f"Resource not found for the segment '{segment}'.", RESOURCE_NOT_FOUND)


def record_not_found(entity: Entity, key: Mapping[str, Any]) -> ServiceError:
    if entity.primary_id is not None and list(key) == [entity.primary_id]:
        message = f"{entity.logical_name} With Id = {key[entity.primary_id]} Does Not Exist"
    else:
        message = f"A record with the specified key values does not exist in {entity.logical_name} entity"
    return ServiceError(404, message, OBJECT_DOES_NOT_EXIST)


def invalid_key(entity: Entity) -> ServiceError:
    return ServiceError(
        400,
        f"The key in the request URI is not valid for resource '{entity.type_name}'. "
        "Ensure that the names and number of key properties match the declared or alternate key "
        "properties for the resource.",
        QUERY,
    )


def payload_error(entity: Entity, inner: str) -> ServiceError:
    return ServiceError(
        400,
        f"Error identified in Payload provided by the user for Entity :'{entity.entity_set}', "
        f"For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293"
        f"  ---->  InnerException : Microsoft.OData.ODataException: {inner}",
        PAYLOAD,
    )


def unknown_property(entity: Entity, name: str) -> ServiceError:
    return payload_error(
        entity,
        f"The property '{name}' does not exist on type '{entity.type_name}'. Make sure to only use property "
        "names that are defined by the type or mark the type as open type.",
    )


def field_error(entity: Entity, error: FieldError) -> ServiceError:
    fld = error.field
    if error.kind == "max_length":
        return ServiceError(
            400,
            f"A validation error occurred. The length of the '{fld.name}' attribute of the '{entity.logical_name}' "
            f"entity exceeded the maximum allowed length of '{fld.max_length}'.",
            STRING_TOO_LONG,
        )
    if error.kind == "option":
        allowed = ",".join(str(o) for o in fld.options)
        return ServiceError(
            400,
            f"A validation error occurred. The value {error.value} of '{fld.name}' on record of type "
            f"'{entity.logical_name}' is outside the valid range. Accepted Values: {allowed}",
            VALUE_OUT_OF_RANGE,
        )
    return payload_error(entity, f"Cannot convert the literal '{error.value}' to the expected type '{fld.edm_type}'.")


def required_missing(entity: Entity, name: str) -> ServiceError:
    return ServiceError(
        400,
        f"A value for the required attribute '{name}' of the '{entity.logical_name}' entity was not provided.",
        INVALID_ARGUMENT,
    )


def duplicate_key(entity: Entity, key_name: str | None, values: Mapping[str, Any]) -> ServiceError:
    if key_name is None:
        return ServiceError(412, "Cannot insert duplicate key.", DUPLICATE_RECORD)
    shown = ",".join(str(v) for v in values.values())
    return ServiceError(
        412,
        f"A record that has the attribute values {shown} already exists. The entity key {key_name} requires that "
        "this set of attributes contains unique values. Select unique values and try again.",
        DUPLICATE_RECORD_ENTITY_KEY,
    )


def already_exists() -> ServiceError:
    return ServiceError(412, "A record with matching key values already exists.", DUPLICATE_RECORD_ENTITY_KEY)


def version_mismatch() -> ServiceError:
    return ServiceError(
        412,
        "The version of the existing record doesn't match the RowVersion property provided.",
        CONCURRENCY_VERSION_MISMATCH,
    )


def bind_not_found(target: Entity, reference: str) -> ServiceError:
    return ServiceError(404, f"{target.logical_name} With Id = {reference} Does Not Exist", OBJECT_DOES_NOT_EXIST)
