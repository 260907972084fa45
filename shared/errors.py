"""The errors this service raises on purpose, grouped by what the caller should do about them.

    ServiceError                  a message, the field at fault, and the status and title api/ answers with
    ├── InputError                the caller sent something wrong: fix the input and send it again
    │   ├── InvalidInput          a malformed or invalid body or parameter (400); the ValueErrors that
    │   │                         pydantic validators raise (ScheduleError, PatternError, TransformError,
    │   │                         FilterSyntaxError, FieldProblem) are InvalidInputs too
    │   ├── Unauthorized          no credentials, or not the ones needed (401)
    │   ├── Forbidden             a principal without the role the request needs (403)
    │   ├── NotFound              no such connection, project, run, entity (404)
    │   ├── Conflict              the state forbids it now (409)
    │   │   ├── AlreadyExists     the name is taken
    │   │   └── RunActive         the project has a run in progress; carries its run id
    │   ├── StaleETag             the caller's If-Match no longer matches (412)
    │   └── ConsentRequired       consent is missing or not accepted (422)
    ├── ConfigurationError        a connection, its credentials or an app setting is wrong: fix the configuration;
    │   │                         sending the same request again cannot help
    │   ├── SettingError          an app setting is missing or malformed (500)
    │   ├── AuthenticationError   a system, or Entra, refused the connection's credentials (502)
    │   ├── SystemRefused         a system refused a request (its 4xx): names it, the request and its answer (502)
    │   └── ForeignOriginRefused  a system handed back a link outside its connection's origin (502)
    ├── RetryableError            a transient failure (throttling, 5xx, dropped connection): retry later (503)
    │   └── SystemUnavailable     a system kept failing for a request's whole budget: names it, the request, the answer
    └── StepFailed                a step of a run failed for good; the orchestrator records why and goes on

api/problems.py maps every ServiceError to a problem+json response in one place; foreign errors
(requests, the storage SDK) are mapped into this tree where they are caught. Activities raise
RetryableError for Durable's retry policy, hand InputError and ConfigurationError back as data
(a retry cannot mend them), and return per-record failures as data.
"""

from __future__ import annotations

import re


class ServiceError(Exception):
    """Base of the errors this service raises on purpose. `field` names the offending input, if any."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InputError(ServiceError):
    """The caller sent something wrong: fixing the input is what helps."""

    status = 400
    title = "Bad request"


class InvalidInput(InputError):
    status = 400
    title = "Invalid input"


class Unauthorized(InputError):
    status = 401
    title = "Unauthorized"


class Forbidden(InputError):
    status = 403
    title = "Forbidden"


class NotFound(InputError):
    status = 404
    title = "Not found"


class Conflict(InputError):
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


class StaleETag(InputError):
    status = 412
    title = "Precondition failed"


class ConsentRequired(InputError):
    status = 422
    title = "Consent required"


class ConfigurationError(ServiceError):
    """A connection, its credentials or an app setting is wrong: fixing the configuration is what helps."""

    status = 502
    title = "Configuration error"


class SettingError(ConfigurationError):
    """An app setting of this service is missing or malformed."""

    status = 500
    title = "An app setting is missing or malformed"


class AuthenticationError(ConfigurationError):
    """A system (or Entra, for a token) refused the connection's credentials: 401/403, or no token."""

    title = "The connected system refused the credentials"


class SystemRefused(ConfigurationError):
    """A system answered a request with a refusal (a 4xx other than throttling): it names the system's answer."""

    title = "The connected system refused the request"


class ForeignOriginRefused(ConfigurationError):
    """A request, or a redirect, aimed outside the connection's origin: refused, never sent."""

    title = "The connected system pointed outside its origin"

    def __init__(self, system: str, origin: str, foreign: str) -> None:
        super().__init__(
            f"{system} handed back a link to {foreign}, outside its origin {origin}: refused, nothing was sent there",
            field="url",
        )
        self.foreign = foreign


class RetryableError(ServiceError):
    """A transient failure: the same call may succeed later."""

    status = 503
    title = "A connected system is unavailable"


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


class StepFailed(ServiceError):
    """A step of a run failed for good (its retries spent, or a failure no retry mends): the run records why."""


def request_path(url: str) -> str:
    """`url` as error texts and logs may name it: no query string or fragment, and every key in its path
    (`CustomersV3(dataAreaId='usmf',CustomerAccount='C-1')`) shown as `(…)`: keys are business data."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    return "/".join(_KEY_SEGMENT.sub(r"\1(…)", segment) for segment in path.split("/"))


_KEY_SEGMENT = re.compile(r"^([^(]*)\(.*\)$")
"""A path segment ending in an OData key: whatever is inside the parentheses may hold quotes and parentheses."""

_HOST_WRAPPERS = re.compile(
    r"^\s*(?:(?:Orchestrator|Activity) function '[^']*' failed:|Result: Failure|Exception:"
    r"|(?:[A-Za-z]+\.)*(?:SystemUnavailable|RetryableError|StepFailed|Exception)(?=:):)\s*"
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
