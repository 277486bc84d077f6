"""Errors the catalog raises on purpose. Their messages are shown to people as they are."""

from __future__ import annotations


class TempoxError(Exception):
    """Base of every error Tempox raises deliberately; the CLI prints these without a trace."""


class ConfigError(TempoxError):
    """The configuration is unreadable or invalid; the message names file, key and problem."""


class AdapterError(TempoxError):
    """A source could not be read: its orchestrator is down, refused us, or sent garbage."""


class NotFoundError(TempoxError):
    pass


class InvalidArgument(TempoxError):
    """A query argument is out of range or inconsistent; the message names the argument."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"argument '{argument}': {problem}")
        self.argument = argument
        self.problem = problem
