"""The call-log analysis's own error: the log or its mapping cannot be used as given."""

from __future__ import annotations

from roi_xl.errors import RoiXlError


class CallLogError(RoiXlError):
    """A call log, a mapping file or an option is unusable; the message says where and why.

    Rows that are merely bad are not errors: they are rejected, listed and counted.
    """
