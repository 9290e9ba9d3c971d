"""Errors that carry a message meant for the user (CLI: one line on stderr, exit 2)."""


class IsingLabError(ValueError):
    """Bad input or an impossible request, explained in plain words."""
