"""GTIN validation and normalisation (ALGORITHMS.md "Catalog: GTINs and duplicates"). No Django import.

A GTIN is 8, 12, 13 or 14 digits whose last digit is the GS1 check digit;
every valid GTIN is normalised to 14 digits by left-padding with zeros. An
11-digit code that is a valid GTIN-12 once left-padded is that GTIN-12: real
UPC-A codes lose their leading zero in spreadsheets and shop exports.

Shops send other things in GTIN and barcode fields too (SKUs, damaged codes):
``read`` keeps such a code as sent, marked not valid, so it is stored and shown
but never used to match products.
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
    # Sums of the ASCII codes (C-level, no int() per digit) less "0" for each digit: a sync checks every
    # variant's barcode, and the generator over the digits was a fifth of the lean validation.
    odd, even = data[::-2].encode(), data[-2::-2].encode()
    total = 3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class Gtin:
    normalised: str  # 14 digits
    length: int  # length as given: 8, 12, 13 or 14 (12 for an 11-digit UPC-A without its leading zero)

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

    @property
    def base_item(self) -> str | None:
        """For a pack (GTIN-14, indicator 1-8): the normalised GTIN of the item it contains; else None."""
        if not self.pack_indicator:
            return None
        data = "0" + self.normalised[1:13]
        return data + str(check_digit(data))


@dataclass(frozen=True)
class Code:
    """A GTIN field as a shop sent it: the text, and the GTIN when it is a valid GS1 code."""

    text: str
    gtin: Gtin | None

    @property
    def key(self) -> str:
        """What identifies the code within a product: the normalised GTIN, else the text as sent."""
        return self.gtin.normalised if self.gtin is not None else self.text

    @property
    def valid(self) -> bool:
        return self.gtin is not None

    @property
    def restricted(self) -> bool:
        return self.gtin is not None and self.gtin.restricted


def parse(text: str) -> Gtin:
    """Validate ``text`` as a GTIN and normalise it; raises InvalidGtin with the reason."""
    if not isinstance(text, str):
        raise InvalidGtin("must be a string of digits")
    code = text.strip()
    if not code.isascii() or not code.isdigit():
        raise InvalidGtin("must contain digits only")
    if len(code) == 11:
        # A UPC-A stored as a number loses its leading zero; it is that GTIN-12 when the check digit holds.
        code = "0" + code
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


def read(text: str) -> Code:
    """The code as sent (surrounding spaces removed) with its GTIN when valid; never raises for text."""
    code = text.strip()
    return Code(text=code, gtin=normalise_or_none(code))
