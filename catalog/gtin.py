"""GTIN validation and normalisation (ALGORITHMS.md "Catalog: GTINs and duplicates"). No Django import.

A GTIN is 8, 12, 13 or 14 digits whose last digit is the GS1 check digit;
every valid GTIN is normalised to 14 digits by left-padding with zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

VALID_LENGTHS = frozenset({8, 12, 13, 14})
# GTIN-13 prefixes reserved for store-internal numbering (restricted circulation numbers).
_RESTRICTED_13 = frozenset({"02", "04", *(f"2{d}" for d in range(10))})


class InvalidGtin(ValueError):
    """The text is no valid GTIN; the message says why."""


def check_digit(data: str) -> int:
    """GS1 check digit of ``data`` (all digits but the last): weights 3, 1, 3, ... from the rightmost digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class Gtin:
    normalised: str  # 14 digits
    length: int  # length as given: 8, 12, 13 or 14

    @property
    def restricted(self) -> bool:
        """Store-internal range: not globally unique, so it may only match exactly within one shop."""
        if self.length == 8:
            return self.normalised[6] in "02"
        return self.normalised[0] == "0" and self.normalised[1:3] in _RESTRICTED_13

    @property
    def pack_indicator(self) -> int:
        """1-8 for a GTIN-14 that is a pack of a base item (link, do not merge); 0 otherwise."""
        first = int(self.normalised[0])
        return first if 1 <= first <= 8 else 0


def parse(text: str) -> Gtin:
    """Validate ``text`` as a GTIN and normalise it; raises InvalidGtin with the reason."""
    if not isinstance(text, str):
        raise InvalidGtin("must be a string of digits")
    code = text.strip()
    if not code.isascii() or not code.isdigit():
        raise InvalidGtin("must contain digits only")
    if len(code) not in VALID_LENGTHS:
        raise InvalidGtin("must have 8, 12, 13 or 14 digits")
    if set(code) == {"0"}:
        raise InvalidGtin("must not be all zeros")
    if check_digit(code[:-1]) != int(code[-1]):
        raise InvalidGtin("has an invalid check digit")
    return Gtin(normalised=code.zfill(14), length=len(code))


def normalise_or_none(text: str | None) -> Gtin | None:
    """The parsed GTIN, or None when ``text`` is empty or no GTIN (e.g. a barcode field holding a SKU)."""
    if not text:
        return None
    try:
        return parse(text)
    except InvalidGtin:
        return None
