"""The operator dashboard (`GET /api/ui`): HTML pages served by the app, filled from the JSON API by a small script."""

from api.ui import routes  # noqa: F401  (registers the dashboard's routes)
