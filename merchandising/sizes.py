"""Size values as shops write them, read into sort keys (``common_sizes``). Pure Python, no Django.

A *reader* turns one value into a key comparable with the keys of the same reader, or None:

- ``age``: baby and kids' ages in months or years, written many ways ("0-3M", "0-6 months",
  "12-24months", "1-2 Years", "18 mths", "2T", "4-5Y", "Newborn"); key = (from, to) in months.
- ``letters``: XXS..6XL and their spellings (X-Small, 2XL, XXL), combined letters (S/M, L-XL),
  size words (Small/Medium/Large, Standard/Regular, Mini/Midi/Maxi, Petit/Moyen/Grand,
  Pequeño/Mediano/Grande), youth/kids letters (YS, Youth M) before adult ones.
- ``numeric``: numeric apparel and shoe sizes: 000/00/0/2/4..., halves ("7.5", "7 1/2", "7½",
  "41,5"), thirds, kids' C and youth Y shoes before adult ones, widths (N, M, W, XW), a prefix
  "US"/"UK"/"EU"/"Size" ignored, "6X" just after 6, ranges "7/8".
- ``waist``: waist x length ("32x30", "W32 L30").
- ``quantity``: a number with a unit of length, mass, volume or count, a range of them or
  dimensions ("15 ml", "(1.25 - 2.5kg)", "100x70 cm", "Super XXXL 365mm", "21 comp").

"One size" in its usual spellings is placed last. A named size system is read first; the values
it cannot read (and every value when no system is named) are read by detection: the reader that
places the most of the remaining values wins (then the one telling most values apart, then the
fixed reader order), repeatedly. Families are ordered the way a size chart is (ages, letters,
numbers, waist x length, quantities); values of the named system come before values placed by
detection, one size after all of them, and values nobody reads keep their current order after.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

Key = tuple
Reader = Callable[[str], Key | None]

# ---- shared text handling ------------------------------------------------------------------------

# en dash, em dash, hyphen, minus; multiplication sign; vulgar fractions
_DASHES = str.maketrans(
    {"\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2212": "-", "\u00d7": "x"}
    | {"\u00bd": " 1/2", "\u2153": " 1/3", "\u2154": " 2/3"}
)
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_PREFIX = re.compile(r"^(?:us|uk|eu|eur|fr|it|size|sz|talla|taille|tamaño|gr\.?|größe|grosse)\s*[:.#]?\s*(?=\S)")


def _norm(value: str) -> str:
    return re.sub(r"\s+", " ", value.translate(_DASHES).strip().lower())


def _core(value: str) -> str:
    """The value without notes in brackets ("XL (Pack of 2)" -> "xl"); the bracket's text when that is all."""
    text = _norm(value)
    stripped = _norm(_PAREN.sub(" ", text))
    if stripped:
        return stripped
    return _norm(text.strip("()[] "))


def _number(text: str) -> float:
    """ "7", "7.5", "41,5", "7 1/2", "7 2/3" -> float."""
    text = text.strip()
    fraction = 0.0
    match = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s+(\d)/(\d)", text)
    if match:
        text, fraction = match.group(1), int(match.group(2)) / int(match.group(3))
    return float(text.replace(",", ".")) + fraction


_NUM = r"\d+(?:[.,]\d+)?(?:\s+[12]/[23])?"

# ---- one size --------------------------------------------------------------------------------------

_ONE_SIZE = re.compile(
    r"^(?:one ?size(?: fits (?:all|most))?|one-size|os|o/s|osfa|osfm|free ?size|uni|unisize|unica|única|"
    r"talla [uú]nica|taille unique|einheitsgr(?:ö|oe)(?:ß|ss)e|universal)$"
)


def is_one_size(value: str) -> bool:
    return bool(_ONE_SIZE.match(_core(value)))


# ---- ages ----------------------------------------------------------------------------------------

_AGE_UNIT = r"(m|mo|mos|mon|mth|mths|month|months|meses|mois|y|yr|yrs|year|years|ans|años|anos|t)"
_AGE_RANGE = re.compile(rf"^(?:ages? )?(\d+(?:\.\d+)?)\s*{_AGE_UNIT}?\s*(?:-|to|/|a)\s*(\d+(?:\.\d+)?)\s*{_AGE_UNIT}$")
_AGE_ONE = re.compile(rf"^(?:age )?(\d+(?:\.\d+)?)\s*{_AGE_UNIT}$")
_NEWBORN = {"preemie": -2.0, "premature": -2.0, "tiny baby": -2.0, "nb": -1.0, "newborn": -1.0, "new born": -1.0}


def _months(number: str, unit: str) -> float:
    n = float(number)
    return n if unit.startswith("m") else n * 12


def age(value: str) -> Key | None:
    v = _core(value)
    if v in _NEWBORN:
        return (_NEWBORN[v], _NEWBORN[v])
    match = _AGE_RANGE.match(v)
    if match:
        lo, lo_unit, hi, hi_unit = match.groups()
        hi_months = _months(hi, hi_unit)
        lo_months = _months(lo, lo_unit or hi_unit)
        if lo_months <= hi_months:
            return (lo_months, hi_months)
        return None
    match = _AGE_ONE.match(v)
    if match:
        months = _months(*match.groups())
        return (months, months)
    return None


# ---- letters and size words ----------------------------------------------------------------------

# rank: 0 = M; each X adds one step beyond S or L.
_WORDS = {
    "s": -1, "sm": -1, "small": -1, "m": 0, "md": 0, "med": 0, "medium": 0, "l": 1, "lg": 1, "large": 1,
    "xs": -2, "xl": 2, "xsmall": -2, "xlarge": 2,
    "standard": 0, "regular": 0, "normal": 0, "std": 0,
    "mini": -2, "midi": 0, "medi": 0, "maxi": 2,
    "petit": -1, "petite": -1, "moyen": 0, "moyenne": 0, "grand": 1, "grande": 1,
    "pequeño": -1, "pequeña": -1, "pequeno": -1, "pequena": -1, "chico": -1, "chica": -1,
    "mediano": 0, "mediana": 0,
    "klein": -1, "mittel": 0, "groß": 1, "gross": 1,
}  # fmt: skip
_YOUTH = re.compile(r"^(?:youth|kids?|boys?|girls?|child|children|junior|jr|y)\s*-?\s*(?=[a-z])")


def _letter_rank(word: str) -> float | None:
    compact = word.replace("-", "").replace(" ", "")
    for form in (word, compact):
        if form in _WORDS:
            return float(_WORDS[form])
    match = re.fullmatch(r"(x*)(s|l)", compact)
    if match:
        steps = len(match.group(1)) + 1
        return float(-steps if match.group(2) == "s" else steps)
    match = re.fullmatch(r"(\d)x(s|l)?", compact)  # 2XL = 2X = XXL, 3XS = XXXS
    if match:
        steps = int(match.group(1)) + 1
        return float(-steps if match.group(2) == "s" else steps)
    match = re.fullmatch(r"((?:extra|x)+)(small|large)", compact)  # Extra Small, XX-Large
    if match:
        steps = len(re.findall(r"extra|x", match.group(1))) + 1
        return float(-steps if match.group(2) == "small" else steps)
    return None


def letters(value: str) -> Key | None:
    v = _core(value).rstrip("+").strip()
    v = re.sub(r"^(?:size|talla|taille)\s*:?\s*", "", v)
    group = 1
    youth = _YOUTH.match(v)
    if youth and v[youth.end() :]:
        rest = v[youth.end() :]
        if _letter_rank(rest) is not None:
            group, v = 0, rest
    rank = _letter_rank(v)
    if rank is not None:
        return (group, rank)
    combined = re.fullmatch(r"([a-z0-9]+)\s*[/-]\s*([a-z0-9]+)", v)
    if combined:
        a, b = _letter_rank(combined.group(1)), _letter_rank(combined.group(2))
        if a is not None and b is not None and a < b:
            return (group, (a + b) / 2)
    return None


# ---- numeric sizes -------------------------------------------------------------------------------

_WIDTHS = {"n": 0, "narrow": 0, "b": 1, "m": 1, "medium": 1, "d": 2, "w": 2, "wide": 2, "xw": 3, "ew": 3, "ee": 3}
_NUMERIC = re.compile(
    rf"^({_NUM})(?:\s*[/-]\s*({_NUM}))?\s*(c|k|y|x)?\s*(?:\(?\s*(n|narrow|b|m|medium|d|w|wide|xw|ew|ee)\s*\)?)?$"
)


def numeric(value: str) -> Key | None:
    v = _PREFIX.sub("", _core(value))
    if re.fullmatch(r"0{2,3}", v):
        return (2, -float(len(v) - 1), 0.0, 0.0, 1)  # 000 < 00 < 0
    # A width may be written in brackets ("9 (W)"): read the whole value first, then without its notes.
    match = _NUMERIC.match(_PREFIX.sub("", _norm(value))) or _NUMERIC.match(v)
    if not match:
        return None
    lo, hi, group_letter, width = match.groups()
    number, upper = _number(lo), _number(hi) if hi else None
    if number > 300 or (upper is not None and upper <= number):
        return None
    group = {"c": 0, "k": 0, "y": 1}.get(group_letter or "", 2)
    bump = 0.1 if group_letter == "x" else 0.0  # kids' 6X comes right after 6
    return (group, number + bump, upper if upper is not None else number, 0.0, _WIDTHS.get(width or "", 1))


# ---- waist x length --------------------------------------------------------------------------------

_WAIST = re.compile(r"^w?\s*(\d{2})\s*(?:x|/|\s)\s*l?\s*(\d{2})$")


def waist(value: str) -> Key | None:
    match = _WAIST.match(_core(value))
    return (int(match.group(1)), int(match.group(2))) if match else None


# ---- quantities: lengths, masses, volumes, counts --------------------------------------------------

_UNIT_TABLES: tuple[dict[str, float], ...] = (  # length (mm), mass (g), volume (ml), count
    {"mm": 1, "cm": 10, "m": 1000, "in": 25.4, "inch": 25.4, "inches": 25.4, '"': 25.4, "ft": 304.8},
    {"mg": 0.001, "g": 1, "gr": 1, "grs": 1, "kg": 1000, "kgs": 1000, "oz": 28.35, "lb": 453.6, "lbs": 453.6},
    {"ml": 1, "cl": 10, "dl": 100, "l": 1000, "lt": 1000, "ltr": 1000, "litre": 1000, "liter": 1000,
     "litres": 1000, "liters": 1000, "fl oz": 29.57, "floz": 29.57, "gal": 3785.4, "cc": 1},
    {"pcs": 1, "pc": 1, "piece": 1, "pieces": 1, "piezas": 1, "pack": 1, "pk": 1, "count": 1, "ct": 1,
     "tab": 1, "tabs": 1, "tablet": 1, "tablets": 1, "tableta": 1, "tabletas": 1, "comp": 1,
     "comprimidos": 1, "comprimés": 1, "caps": 1, "capsules": 1, "cápsulas": 1, "capsulas": 1,
     "unit": 1, "units": 1, "unidades": 1, "uds": 1, "und": 1, "sachets": 1, "sobres": 1},
)  # fmt: skip
_UNITS: dict[str, tuple[int, float]] = {
    name: (dim, float(factor)) for dim, table in enumerate(_UNIT_TABLES) for name, factor in table.items()
}
_UNIT = "(" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True)) + r")(?![a-záéíóúñ])"
_SEP = r"\s*[x*]\s*"
_DIMS = re.compile(rf"({_NUM}){_SEP}({_NUM})(?:{_SEP}({_NUM}))?\s*{_UNIT}")
_RANGE = re.compile(rf"({_NUM})\s*(?:{_UNIT})?\s*(?:-|to)\s*({_NUM})\s*{_UNIT}")
_ONE = re.compile(rf"(?<![\d.,])({_NUM})\s*{_UNIT}")


def quantity(value: str) -> Key | None:
    v = _norm(value)
    match = _DIMS.search(v)
    if match:
        dim, factor = _UNITS[match.group(4)]
        sides = sorted(_number(n) * factor for n in match.groups()[:3] if n)
        return (dim, len(sides), math.prod(sides), *sides)
    match = _RANGE.search(v)
    if match:
        lo, lo_unit, hi, hi_unit = match.groups()
        dim, factor = _UNITS[hi_unit]
        lo_dim, lo_factor = _UNITS[lo_unit] if lo_unit else (dim, factor)
        if lo_dim == dim:
            return (dim, 1, _number(lo) * lo_factor, _number(hi) * factor)
    match = _ONE.search(v)
    if match:
        dim, factor = _UNITS[match.group(2)]
        amount = _number(match.group(1)) * factor
        return (dim, 1, amount, amount)
    return None


# ---- systems and detection ---------------------------------------------------------------------------

# Families in size-chart order; a key is (family index, reader key).
READERS: tuple[tuple[str, Reader], ...] = (
    ("age", age),
    ("letters", letters),
    ("numeric", numeric),
    ("waist", waist),
    ("quantity", quantity),
)
_FAMILY = {name: i for i, (name, _) in enumerate(READERS)}
_READER = dict(READERS)
# The documented ``common_size`` systems and the families each reads (in this order of preference).
SYSTEMS: dict[str, tuple[str, ...]] = {
    "us_apparel": ("age", "letters", "numeric", "waist"),
    "us_shoes": ("numeric",),
    "eu_shoes": ("numeric",),
    "intl_letters": ("letters",),
}


def _read_with(families: Sequence[str], value: str) -> Key | None:
    for name in families:
        key = _READER[name](value)
        if key is not None:
            return (_FAMILY[name], key)
    return None


def _detect(values: Sequence[str]) -> dict[str, Key]:
    """Keys for ``values`` by repeatedly choosing the reader that places the most of those left."""
    keys: dict[str, Key] = {}
    left = list(values)
    while left:
        best = None
        for rank, (name, reader) in enumerate(READERS):
            read = {v: k for v in left if (k := reader(v)) is not None}
            if not read:
                continue
            score = (len(read), len(set(read.values())), -rank)
            if best is None or score > best[0]:
                best = (score, name, read)
        if best is None:
            break
        _, name, read = best
        keys.update({v: (_FAMILY[name], k) for v, k in read.items()})
        left = [v for v in left if v not in read]
    return keys


def size_keys(values: Sequence[str], system: str = "") -> dict[str, Key | None]:
    """Sort key of each value (None when no rule reads it); see the module docstring for the order."""
    out: dict[str, Key | None] = dict.fromkeys(values)
    sized = [v for v in values if not is_one_size(v)]
    for v in values:
        if v not in sized:
            out[v] = (3,)
    left = sized
    if system:
        families = SYSTEMS[system]
        for v in sized:
            key = _read_with(families, v)
            if key is not None:
                out[v] = (0, *key)
        left = [v for v in sized if out[v] is None]
    for v, key in _detect(left).items():
        out[v] = (1, *key)
    return out
