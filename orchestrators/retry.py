"""The retry policy of the sync's activities: for transient failures only (they return per-record ones)."""

import azure.durable_functions as df

STEP_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2_000, max_number_of_attempts=4)
NOTIFY_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=3_000, max_number_of_attempts=5)
