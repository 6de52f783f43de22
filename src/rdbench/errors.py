"""Errors the user can fix. The CLI prints their message as one line and exits 2."""


class UserError(Exception):
    """A problem with the user's input: a bad flag, file, task or environment.

    The message must say what is wrong and how to fix it, in one line.
    """


class InvalidSubmission(UserError):
    """The agent's solution cannot be scored: wrong output, missing file, crash."""


class FamilyError(UserError):
    """A task family is malformed: the message names the family, the file and the problem."""


class SandboxUnavailable(UserError):
    """The sandbox cannot start here (no bwrap, user namespaces disabled, ...)."""


class RecordsError(UserError):
    """A log or runs file cannot be read: the message names the file (and line)."""


class TimingUnreliable(Exception):
    """A timing scorer could not trust its own measurement (the machine is too busy).

    Raised by a timing-sensitive family's `score` instead of returning a number; the
    message says why, e.g. "timing unreliable: yardstick spread 31%". Not the agent's
    fault and not a user error: callers record it as such and suggest a quieter machine.
    """
