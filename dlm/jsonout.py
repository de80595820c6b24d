"""Strict JSON for every `--json` output (docs/json.md)."""

from __future__ import annotations

import json
import math
from typing import Any


def to_json(payload: Any, *, indent: int | None = 2) -> str:
    """`payload` as strict JSON: a non-finite number (a margin beyond float range,
    say) becomes null, never `Infinity` or `NaN`, which JSON does not have."""
    return json.dumps(_finite(payload), indent=indent, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
