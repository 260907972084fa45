"""twin: the local twin of this app, composed from parts that know nothing of each other (dev only).

devhost/ is a generic Functions host and sandbox/ a pair of stand-in Web APIs; neither imports
the other nor the product. This package is the one place that knows all three and this app:

- local_twin.py: `LocalTwin`, which starts Azurite, the Sales, CDS and Operations sandbox
  systems and devhost over function_app.py, and talks to the app's HTTP API (connections,
  the asynchronous polling pattern). Used by the end-to-end tests and the benchmarks.
- demo.py: `make demo`, the prospect-to-cash integration end to end.
- up.py: `make up`, the twin in the background for manual use.
"""
