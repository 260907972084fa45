"""The blueprint every orchestrator registers on."""

import azure.durable_functions as df

blueprint = df.Blueprint()
