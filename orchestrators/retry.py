"""The retry policy of the sync's activities: for transient failures only (they return per-record ones).

Derived from the app's functionTimeout (shared/budgets.py): Durable tries a step
`step_attempts` times, `step_interval_s` apart, so that a system that stays down fails the
run within `down_system_fails_within_s` of its first failure. The values are read once per
process; the host restarts the app when its settings change.
"""

import azure.durable_functions as df

from shared.budgets import Budgets

_BUDGETS = Budgets.for_app()

STEP_RETRY = df.RetryOptions(
    first_retry_interval_in_milliseconds=round(_BUDGETS.step_interval_s * 1000),
    max_number_of_attempts=_BUDGETS.step_attempts,
)
NOTIFY_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=3_000, max_number_of_attempts=5)
