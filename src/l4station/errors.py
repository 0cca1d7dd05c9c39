"""The one exception a person's mistake raises: what is wrong and how to fix it, in one line.

Commands report it as a one-line message and exit code 2, never as a traceback. Callers that
catch ValueError keep working:

>>> issubclass(InputError, ValueError)
True
"""


class InputError(ValueError):
    """A mistake in the user's input (a mission file, an option, a time outside the ephemeris)."""
