"""Errors of the core. Salt adapters turn them into CommandExecutionError."""


class VenvbuildError(Exception):
    """Base class: the message is a sentence an operator can act on."""

    #: The whole output of the process whose failure this is, credentials hidden
    #: (runner.run sets it; the message carries only its tail): what tells a
    #: passing network failure from a compile error (core/retry.py).
    output: str = ""


class SpecError(VenvbuildError):
    """Invalid input: a requirement, a path, an option."""


class InterpreterError(VenvbuildError):
    """The Python interpreter asked for is missing or unusable."""


class ToolError(VenvbuildError):
    """A tool (pip, uv) is missing or failed."""


class BuildError(VenvbuildError):
    """Building wheels failed; nothing was published."""


class InstallError(VenvbuildError):
    """Installing a new venv failed; the live venv was not touched."""


class RepoError(VenvbuildError):
    """The wheel repo is unreadable, inconsistent or unreachable."""


class UnsafePathError(VenvbuildError):
    """A path venvbuild would write through is not under trusted control
    (another user owns or can write a directory on the way, or a symlink was
    planted where venvbuild expects its own file)."""


class TrustError(VenvbuildError):
    """A manifest or wheel could not be authenticated: its hash was not
    published by a trusted builder, or the bytes differ from the hash."""


class UnreachableError(RepoError):
    """A repo did not answer (or answered with a server error) until the deadline."""
