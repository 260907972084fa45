"""devhost: the local stand-in for the Azure Functions host and the Durable extension (dev only).

A generic host: it runs whichever function_app it is given and knows nothing of this app; it
imports neither sandbox/ nor the product (tests/test_layout.py holds that). twin/ composes it
with Azurite and the sandbox systems for this app.

    python -m devhost [--port 7071] [--storage CONNSTR] [--app-dir DIR | --app MODULE]

Where things are:

- host.py, __main__.py: the command line and the assembly of everything below.
- host_config.py, app_index.py: host.json, local.settings.json, and the app's functions.
- http_server.py, routes.py, auth.py, invoker.py: HTTP functions, their routes and keys, and
  how any user function is called and logged.
- worker_pool.py, worker_process.py, worker_runtime.py, worker_protocol.py: the worker
  processes user code runs in, functionTimeout, and the plain data that crosses to them.
- client_binding.py, management_api.py: the durable client binding and the Durable HTTP API.
- task_hub.py, orchestration_runner.py, history.py, actions.py, recovery.py: orchestrations,
  run episode by episode through the SDK's replay engine, and resumed after a restart.
- activity_runner.py, timers.py, timer_triggers.py, ncrontab.py: activities, durable timers
  and timer triggers.
- persistence.py, large_values.py, table_keys.py: the task hub's tables and blobs.
- process.py, azurite.py: start devhost, and the storage emulator it runs on, as child processes.
- replay_guard.py: the determinism guard tests run over a hub's finished instances.
"""
