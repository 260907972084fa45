"""What the connector says about one route: the words a maker reads, the parameters, bodies, answers, examples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

Visibility = Literal["important", "advanced", "internal"]


@dataclass(frozen=True)
class Dropdown:
    """A parameter filled from another operation's answer (`x-ms-dynamic-values`)."""

    operation_id: str
    value_path: str = "name"
    value_title: str = "name"

    def extension(self) -> dict[str, str]:
        return {"operationId": self.operation_id, "value-path": self.value_path, "value-title": self.value_title}


@dataclass(frozen=True)
class Param:
    """A path, query or header parameter. A path parameter is required; the others say so."""

    summary: str
    description: str
    example: str | int | None = None
    visibility: Visibility = "important"
    required: bool = True
    type: Literal["string", "integer"] = "string"
    default: str | int | None = None
    enum: tuple[str, ...] | None = None
    dropdown: Dropdown | None = None


@dataclass(frozen=True)
class Body:
    """A JSON request body validated by `model`; `example` is sent as is by the run on the twin."""

    model: type[BaseModel]
    summary: str
    description: str
    example: dict[str, Any] | None = None
    required: bool = True


@dataclass(frozen=True)
class Answer:
    """One documented response: `model` (a list of it with `many`), or no body when None."""

    description: str
    model: type[BaseModel] | None = None
    many: bool = False
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    description: str
    answers: dict[int, Answer]
    params: dict[str, Param] = field(default_factory=dict)
    query: dict[str, Param] = field(default_factory=dict)
    headers: dict[str, Param] = field(default_factory=dict)
    body: Body | None = None
    visibility: Visibility | None = None
    trigger: bool = False
    produces: str = "application/json"
    """The media type of the answers (`text/html` for a page)."""
