"""The HTTP blueprint every route of the API registers on."""

import azure.durable_functions as df

blueprint = df.Blueprint()
