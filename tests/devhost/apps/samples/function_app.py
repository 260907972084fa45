"""Durable Functions samples in the decorator model: the app only composes its blueprints.

A function app of its own, the way its authors would write it for Azure: a top-level
`shared` package, blueprints at the root, an HTTP starter that answers with the
check-status payload. devhost's tests run it from its folder (`--app-dir`).
"""

import azure.durable_functions as df
import azure.functions as func
import chaining
import eternal
import fan_out_fan_in
import human_interaction
import monitor
import retries
import starter
import sub_orchestrations

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

for sample in (starter, chaining, fan_out_fan_in, human_interaction, monitor, eternal, sub_orchestrations, retries):
    app.register_functions(sample.bp)
