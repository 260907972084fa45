"""Run subscriptions: the webhook behind the connector's "When a run finishes" trigger.

Power Automate or a Logic App subscribes with a callback URL (`POST /api/subscriptions`) and
unsubscribes when the flow goes (`DELETE /api/subscriptions/{id}`). When a run ends with a
status a subscription asked for, its callback gets the run's summary (shared/notify.py), the
same summary a project's own webhook gets.

The callback URL carries the caller's signature, so it is a credential: it is kept encrypted
with the key(s) of `DI_SUBSCRIPTION_KEY` (Fernet), decrypted only to call it, and never named
in an error, a log or an orchestration's input (those carry the subscription id).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import SplitResult, urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import Field, StringConstraints, field_validator

from shared.connection_rules import plain_http_problem, unauthenticated_allowed
from shared.errors import InvalidInput, NotFound, SettingError
from shared.models import Name, Strict
from shared.notify import post_summary, summary
from shared.settings import SUBSCRIPTION_KEY_SETTING, subscription_keys
from shared.store import Store
from shared.store.subscriptions import RunEnd, Subscription

RUN_ENDS: tuple[RunEnd, ...] = ("Succeeded", "Warning", "Failed")
MAX_PROJECTS = 100
CallbackUrl = Annotated[str, StringConstraints(max_length=4096, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s]+$")]


class SubscriptionRequest(Strict):
    """The body of `POST /api/subscriptions`."""

    callbackUrl: CallbackUrl = Field(description="Where the run summary is POSTed when a run finishes.")
    projects: list[Name] | None = Field(
        default=None, min_length=1, max_length=MAX_PROJECTS,
        description="Only runs of these projects (all projects when left out).",
    )
    on: list[RunEnd] = Field(
        default_factory=lambda: list(RUN_ENDS), min_length=1, max_length=len(RUN_ENDS),
        description="Only runs that end with one of these statuses (all three when left out).",
    )

    @field_validator("projects", "on")
    @classmethod
    def _once_each(cls, values: list[str] | None) -> list[str] | None:
        if values is not None and len(set(values)) != len(values):
            raise ValueError("a value is given twice")
        return values


def cipher(keys: list[str] | None = None) -> MultiFernet:
    """The cipher of `DI_SUBSCRIPTION_KEY`'s keys; SettingError naming the setting when one is not a Fernet key."""
    try:
        return MultiFernet([Fernet(key) for key in (subscription_keys() if keys is None else keys)])
    except ValueError:
        raise SettingError(
            f"app setting {SUBSCRIPTION_KEY_SETTING} must hold Fernet keys (32 bytes, url-safe base64), "
            "separated by commas",
            field=SUBSCRIPTION_KEY_SETTING,
        ) from None


def subscribe(store: Store, request: SubscriptionRequest, now: datetime) -> Subscription:
    """Keep a new subscription, its callback encrypted; InvalidInput, and nothing kept, when it cannot be served."""
    _check_callback(request.callbackUrl)
    for n, project in enumerate(request.projects or []):
        try:
            store.projects.etag(project)
        except NotFound:
            raise InvalidInput(f"no project called {project!r}", field=f"projects.{n}") from None
    subscription = Subscription(
        id=uuid.uuid4().hex, projects=request.projects, on=request.on, createdAt=now,
        callback=cipher().encrypt(request.callbackUrl.encode()).decode(),
    )
    store.subscriptions.add(subscription)
    return subscription


def unsubscribe(store: Store, subscription_id: str) -> None:
    """Forget a subscription; NotFound when there is none."""
    store.subscriptions.delete(subscription_id)


def subscribers(store: Store, project: str, status: str) -> list[str]:
    """The ids of the subscriptions that want to hear that a run of `project` ended with `status`."""
    return sorted(s.id for s in store.subscriptions.list() if s.wants(project, status))


def call_back(store: Store, subscription_id: str, run_id: str, base_url: str | None) -> int | None:
    """POST the run's summary to the subscription's callback; its status, or None when the subscription is gone.

    RetryableError when the receiver fails or cannot be reached.
    """
    try:
        subscription = store.subscriptions.get(subscription_id)
    except NotFound:
        return None
    try:
        url = cipher().decrypt(subscription.callback.encode()).decode()
    except InvalidToken:
        raise SettingError(
            f"subscription {subscription_id} was encrypted with a key {SUBSCRIPTION_KEY_SETTING} no longer holds",
            field=SUBSCRIPTION_KEY_SETTING,
        ) from None
    return post_summary(url, summary(store, run_id, base_url), f"the callback of subscription {subscription_id}")


def _check_callback(url: str) -> None:
    """InvalidInput unless the service may POST run summaries to `url`; messages never repeat the URL."""
    parts = _split(url)
    if parts is None:
        raise InvalidInput("must be an absolute http(s) URL with a host", field="callbackUrl")
    if "@" in parts.netloc or parts.fragment:
        raise InvalidInput("must not carry user-info or a fragment", field="callbackUrl")
    problem = plain_http_problem(url, allow_unauthenticated=unauthenticated_allowed())
    if problem is not None:
        raise InvalidInput(problem, field="callbackUrl")


def _split(url: str) -> SplitResult | None:
    """`url`'s parts, or None when it has no host or a port out of range."""
    try:
        parts = urlsplit(url)
        return parts if parts.hostname and parts.port != 0 else None
    except ValueError:
        return None
