"""The blueprint every activity registers on."""

import azure.durable_functions as df

blueprint = df.Blueprint()
