"""French typography: a narrow no-break space before the high punctuation, % and €.

French sets "Total : 12 %" with a thin space that never breaks before ":",
";", "!", "?", "%" and "€". Texts are written with ordinary spaces (or none
after a label built in code); this puts the right space in, once, where a
text is read for a French reader.
"""

from __future__ import annotations

import re
from typing import Any

NNBSP = "\u202f"  # narrow no-break space
_BEFORE = re.compile(r"[ \u00a0]+([:;!?%€])")
_GLUED = re.compile(r"(?<=[^\s\d:/\\])([;!?])(?=\s|$)|(?<=[^\s:/\\])(:)(?=\s)")


def french(text: str) -> str:
    """``text`` with a narrow no-break space before ``: ; ! ? % €`` (never inside a URL)."""
    text = _BEFORE.sub(NNBSP + r"\1", text)
    return _GLUED.sub(lambda m: NNBSP + (m.group(1) or m.group(2)), text)


def for_language(text: str, language: str) -> str:
    """``text`` as a reader of ``language`` expects its spacing."""
    return french(text) if language == "fr" else text


def spaced(value: Any, language: str) -> Any:
    """Every text in ``value`` (a text, or lists and tables of them) spaced for ``language``."""
    if isinstance(value, str):
        return for_language(value, language)
    if isinstance(value, list):
        return [spaced(item, language) for item in value]
    if isinstance(value, dict):
        return {key: spaced(item, language) for key, item in value.items()}
    return value
