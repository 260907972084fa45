"""Durable activities: adapt a small JSON input to one call into shared/, return a small JSON dict."""

from activities import subscriptions, sync, twoway  # noqa: F401  (registers the activities)
from activities.blueprint import blueprint

__all__ = ["blueprint"]
