"""The one exception type users can cause; the command line turns it into a single clear line."""


class GridlineError(Exception):
    """Bad input or configuration: reported to the user without a traceback."""
