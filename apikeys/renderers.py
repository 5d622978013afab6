"""The JSON renderer of every API surface, made unable to fail on the values it is given.

A response is rendered after the view returned, i.e. after its transaction committed: a renderer that raises
there turns applied writes into a 500 (a products sync stored its valid items and answered 500 because a
rejected item's id, echoed back, held a lone surrogate). DRF's renderer fails on two kinds of value:

- text that is no valid Unicode scalar sequence (a lone surrogate ``"\\ud800"``, which Python's JSON parser
  accepts from a client): the output is written as UTF-8, and those characters are written as the JSON
  escape ``\\ud800`` instead (the same text the client sent);
- a non-finite number (a float or Decimal infinity or NaN), which strict JSON cannot express: it is written
  as ``null``.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from rest_framework.compat import INDENT_SEPARATORS, LONG_SEPARATORS, SHORT_SEPARATORS
from rest_framework.renderers import JSONRenderer


def _finite_only(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    if isinstance(value, dict):
        return {k: _finite_only(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_only(v) for v in value]
    return value


class SafeJSONRenderer(JSONRenderer):
    """DRF's JSON renderer; lone surrogates become ``\\uXXXX`` escapes and non-finite numbers ``null``."""

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        try:
            text = self._dumps(data, accepted_media_type, renderer_context)
        except ValueError:  # "Out of range float values are not JSON compliant"
            text = self._dumps(_finite_only(data), accepted_media_type, renderer_context)
        # In JSON text every character outside ASCII is inside a string literal, where backslashreplace
        # writes a lone surrogate as exactly its JSON escape (and leaves valid text as plain UTF-8).
        return text.encode("utf-8", errors="backslashreplace")

    def _dumps(self, data, accepted_media_type, renderer_context) -> str:
        """JSONRenderer.render up to, not including, its final encode."""
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        separators = INDENT_SEPARATORS if indent is not None else SHORT_SEPARATORS if self.compact else LONG_SEPARATORS
        text = json.dumps(
            data,
            cls=self.encoder_class,
            indent=indent,
            ensure_ascii=self.ensure_ascii,
            allow_nan=not self.strict,
            separators=separators,
        )
        # as DRF: U+2028/2029 escaped so the output is also a JavaScript literal
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
