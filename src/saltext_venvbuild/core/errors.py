"""Errors of the core. Salt adapters turn them into CommandExecutionError."""


class VenvbuildError(Exception):
    """Base class: the message is a sentence an operator can act on."""


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
