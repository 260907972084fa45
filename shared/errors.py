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

api/ maps DomainError subclasses to problem+json responses in one place; activities raise
RetryableError so that Durable's retry policy can try again, and return per-record failures
as data.
"""

from __future__ import annotations


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
