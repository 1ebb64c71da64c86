"""Caller numbers to E.164 with ``phonenumbers``, each distinct number looked at once.

A million-row log holds far fewer distinct numbers, and fewer still once the
punctuation people type is dropped: ``(415) 555-0134``, ``415.555.0134`` and
``+1 415 555 0134`` are one lookup key, ``4155550134``. The analysis works out the keys
in DuckDB and only keys it cannot settle come to Python.

A number is normalised when phonenumbers parses it and finds it valid
(``is_valid_number``); anything else is *invalid*: kept as the caller's raw text,
counted and reported, never dropped.

For the North American regions US and CA, a 10-digit key is checked in DuckDB against
phonenumbers' own patterns for the region (the ``_number_type_helper`` rule: the general
pattern and one number type, each with its possible lengths), so that 300,000 distinct
numbers take a fraction of a second instead of seconds. A key that is not valid for the
region goes to phonenumbers itself (a Canadian caller in a US log, an invalid number).
The tests prove both paths agree with ``phonenumbers.parse`` + ``is_valid_number``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, PhoneNumberFormat

from roi_xl.calls.errors import CallLogError

# Only digits, spaces and the punctuation of written numbers, with at most a leading "+":
# such a text means exactly what its digits mean, so the digits are the lookup key.
PUNCTUATED_NUMBER = r"^\+?[0-9 ().\-/]+$"
# Regions whose numbers are 10 digits behind an optional "1" or "+1", read in DuckDB.
NANP_FAST_REGIONS = ("US", "CA")
_NANP_KEY = r"(?:\+1|1)?([2-9][0-9]{2}[2-9][0-9]{6})"
_NANP = re.compile(f"^{_NANP_KEY}$")
# The number types _number_type_helper tries after the general pattern.
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def check_region(region: str) -> str:
    """The ``--country`` as phonenumbers knows it (two letters), or a clear error."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise CallLogError(
            f"--country {region!r}: not a region phonenumbers knows; give a two-letter "
            "country code such as US, CA, GB or FR"
        )
    return code


def key_sql(text: str) -> str:
    """SQL: the lookup key of a trimmed, non-blank caller text.

    A punctuated number holds only digits and the characters of PUNCTUATED_NUMBER:
    dropping those characters (``translate``, cheaper than a regular expression)
    leaves its digits.
    """
    return (
        f"CASE WHEN regexp_full_match({text}, '{PUNCTUATED_NUMBER[1:-1]}') "
        f"THEN (CASE WHEN starts_with({text}, '+') THEN '+' ELSE '' END) "
        f"|| translate({text}, '+ ().-/', '') ELSE {text} END"
    )


def canonical_key_sql(key: str, region: str) -> str:
    """SQL: one key per national number where the region allows it (US, CA)."""
    if region not in NANP_FAST_REGIONS:
        return key
    # +1 617 555 0134, 1-617-555-0134 and 617.555.0134 are one national number
    return f"CASE WHEN regexp_full_match({key}, '{_NANP_KEY}') THEN right({key}, 10) ELSE {key} END"


def fast_e164_sql(key: str, region: str) -> str:
    """SQL: the E.164 form of a key valid for the region, else NULL (Python decides)."""
    if region not in NANP_FAST_REGIONS:
        return "NULL::VARCHAR"
    metadata = PhoneMetadata.metadata_for_region(region)
    general = _desc_sql(key, metadata.general_desc)
    types = [_desc_sql(key, getattr(metadata, name)) for name in _TYPES]
    any_type = " OR ".join(t for t in types if t != "FALSE") or "FALSE"
    return (
        f"CASE WHEN regexp_full_match({key}, '[2-9][0-9]{{2}}[2-9][0-9]{{6}}') "
        f"AND {general} AND ({any_type}) THEN '+1' || {key} END"
    )


def _desc_sql(key: str, desc: object) -> str:
    """One PhoneNumberDesc as SQL, as phonenumbers' _is_number_matching_desc reads it."""
    pattern = getattr(desc, "national_number_pattern", None)
    if desc is None or not pattern:
        return "FALSE"
    lengths = tuple(getattr(desc, "possible_length", ()) or ())
    length = f"len({key}) IN ({', '.join(map(str, lengths))}) AND " if lengths else ""
    return f"({length}regexp_full_match({key}, '{pattern.replace(chr(39), chr(39) * 2)}'))"


def normalise_keys(
    keys: Sequence[str],
    region: str,
    on_chunk: Callable[[int, int], None] | None = None,
    chunk: int = 20_000,
) -> list[str | None]:
    """The E.164 form of each key according to phonenumbers, or None when not valid."""
    fast = region in NANP_FAST_REGIONS
    out: list[str | None] = []
    for start in range(0, len(keys), chunk):
        for key in keys[start : start + chunk]:
            match = _NANP.match(key) if fast else None
            out.append(_nanp(match.group(1), region) if match else normalise_one(key, region))
        if on_chunk:
            on_chunk(min(start + chunk, len(keys)), len(keys))
    return out


def normalise_one(text: str, region: str) -> str | None:
    """What phonenumbers makes of one caller text: E.164 if valid, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _nanp(national: str, region: str) -> str | None:
    """What phonenumbers.parse(national, region) would give, without its text scanning."""
    number = PhoneNumber(country_code=1, national_number=int(national))
    if phonenumbers.is_valid_number_for_region(number, region) or phonenumbers.is_valid_number(
        number
    ):
        return "+1" + national
    return None
