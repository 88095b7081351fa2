"""The one exception type for errors a user can cause; the CLI prints it as one line, exit code 2."""


class SslCeError(Exception):
    """Bad input, bad config or a bad checkpoint: the message names what is wrong and how to fix it."""


class Interrupted(SslCeError):
    """Training stopped by Ctrl-C (SIGINT) after writing a checkpoint; the CLI exits with code 130."""
