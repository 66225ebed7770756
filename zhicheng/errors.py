"""The one base of the errors a user can fix, and the exit code each one means.

The CLI maps them once (zhicheng.cli.output.guarded): the message as one line, then
`exit_code`. Any other exception, a bare ValueError included, is a fault of zhicheng
and exits 1 with its traceback (cli.md: 0 done, 1 needs a human, 2 bad usage or
configuration).
"""
from __future__ import annotations


class UserError(Exception):
    """Bad input, usage or configuration: the message says what is wrong and what to do."""

    exit_code = 2


class BadValue(UserError, ValueError):
    """A value the user gave (an option, a field of a file) is refused; still a ValueError
    for code that validates values."""
