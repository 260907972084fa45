"""The one error a transform raises."""


class TransformError(ValueError):
    """A value the transform cannot accept; the record fails on this field."""
