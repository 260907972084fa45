"""Greetings in the travellers' style."""


def greeting(city: str) -> str:
    """The greeting for one city."""
    return f"Hello {city}!"
