"""The Functions app: composition only. Every function lives in a blueprint."""

import azure.durable_functions as df
import azure.functions as func

from api import blueprint as api_blueprint

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(api_blueprint)
