"""Errors a user can cause. The command line reports them in one line and exits with code 2."""


class UserError(Exception):
    """A mistake in the user's input (a scenario file, a name, a path): never a bug in lunarsim.

    The message is one line that names the file and the field, so that the command line can
    print it as it is. ``problems``, where set, lists every problem found, one line each (what
    ``lunarsim scenarios validate`` prints).
    """

    problems: list[str] | None = None


class RunFailed(Exception):
    """A run produced something it must not (a non-finite outcome): not the user's mistake, and
    never written as a result. The command line reports it in one line, exit code 1."""


class BadValue(UserError, ValueError):
    """An argument with a value outside what it may be: the command line prints it in one line
    (a :class:`UserError`), and a Python caller can catch it as the ``ValueError`` it is."""


class BadType(UserError, TypeError):
    """An argument of the wrong type (text for a number, a fraction for a count): one line on
    the command line, a ``TypeError`` to a Python caller."""
