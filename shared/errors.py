"""The errors of the domain, grouped by what the caller should do about them.

    DomainError
    ├── InvalidInput        the caller sent something wrong: fix it and send again (400)
    ├── NotFound            no such connection, project, run (404)
    ├── Conflict            the state forbids it now (409)
    │   ├── AlreadyExists   the name is taken
    │   └── RunActive       the project has a run in progress; carries its run id
    ├── StaleETag           the caller's If-Match no longer matches (412)
    └── ConsentRequired     consent is missing or not accepted (422)

    RetryableError          a transient failure (throttling, 5xx, dropped connection): retry later
    └── SystemUnavailable   a system kept failing for a request's whole budget: names it, the request, the answer

api/ maps DomainError subclasses to problem+json responses in one place; activities raise
RetryableError so that Durable's retry policy can try again, and return per-record failures
as data.
"""

from __future__ import annotations

import re


class DomainError(Exception):
    """Base of the errors a caller can act on. `field` names the offending input, if any."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status = 400
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class AlreadyExists(Conflict):
    title = "Already exists"


class RunActive(Conflict):
    title = "A run is already active"

    def __init__(self, project: str, run_id: str) -> None:
        super().__init__(f"project {project!r} already has an active run {run_id!r}", field="runId")
        self.project = project
        self.run_id = run_id


class StaleETag(DomainError):
    status = 412
    title = "Precondition failed"


class ConsentRequired(DomainError):
    status = 422
    title = "Consent required"


class RetryableError(Exception):
    """A transient failure: the same call may succeed later."""


class SystemUnavailable(RetryableError):
    """A system kept failing (5xx, throttling, refused or dropped connections) for a request's whole budget.

    The message names the last answer, the system and the request, never a query string (it
    may carry a SAS or a key), a record's key values nor a header: `503 Service Unavailable from
    connection 'cds' (dataverse): POST https://…/UpsertMultiple, 6 attempts over 95 s`.
    """

    def __init__(self, answer: str, system: str, method: str, url: str, attempts: int, seconds: float,
                 note: str = "") -> None:
        self.answer = answer
        self.system = system
        self.request = f"{method} {request_path(url)}"
        self.attempts = attempts
        self.seconds = seconds
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"{answer} from {system}: {self.request}, {tries} over {seconds:.0f} s{note}")


def request_path(url: str) -> str:
    """`url` as error texts and logs may name it: no query string or fragment, and every key in its path
    (`CustomersV3(dataAreaId='usmf',CustomerAccount='C-1')`) shown as `(…)`: keys are business data."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    return "/".join(_KEY_SEGMENT.sub(r"\1(…)", segment) for segment in path.split("/"))


_KEY_SEGMENT = re.compile(r"^([^(]*)\(.*\)$")
"""A path segment ending in an OData key: whatever is inside the parentheses may hold quotes and parentheses."""

_HOST_WRAPPERS = re.compile(
    r"^\s*(?:(?:Orchestrator|Activity) function '[^']*' failed:|Result: Failure|Exception:"
    r"|(?:[A-Za-z]+\.)*(?:SystemUnavailable|RetryableError|TaskError|Exception)(?=:):)\s*"
)


def failure_reason(text: str) -> str:
    """The reason of a failed step as an operator should read it, from the text Durable hands the orchestrator.

    The host wraps an activity's error in its own words (`Activity function 'load_page'
    failed: SystemUnavailable: …`), a sub-orchestration's again, and appends stack traces:
    the reason is the innermost message's first line.
    """
    reason = text
    while (wrapper := _HOST_WRAPPERS.match(reason)) is not None and wrapper.end() > 0:
        reason = reason[wrapper.end():]
    return reason.strip().splitlines()[0].strip() if reason.strip() else text.strip()
