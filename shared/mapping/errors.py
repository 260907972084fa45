"""The one error a transform raises."""

from shared.errors import InvalidInput


class TransformError(InvalidInput, ValueError):
    """A value the transform cannot accept; the record fails on this field (shared/mapping/compiler.py names it)."""
