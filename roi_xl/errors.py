"""The errors roi_xl raises on purpose, each worded for the person who must act on it."""

from __future__ import annotations


class RoiXlError(Exception):
    """Base of every error that is the input's fault, not the program's.

    The command line prints its message and exits with code 2, never a traceback.
    """


class ExpressionError(RoiXlError):
    """A business formula is malformed or uses something outside the language."""


class TemplateError(RoiXlError):
    """A template file is missing, malformed or inconsistent."""


class InputError(RoiXlError):
    """A value given for an input is unknown, not a number or out of range."""
