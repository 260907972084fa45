"""The API as a Power Automate / Logic Apps custom connector: a Swagger 2.0 definition generated from the
app's routes, the words in operations.py and the pydantic models (no description of the API written twice)."""

from shared.openapi.document import Route, UndescribedRoute, api_properties, connector_definition, render

__all__ = ["Route", "UndescribedRoute", "api_properties", "connector_definition", "render"]
