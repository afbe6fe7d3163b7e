"""JSON text built column by column (pure), for batch scoring's logged rows.

orjson writes a whole numpy column in one call (the shortest text that reads back as the
same float, as Python's repr does); splitting that text gives one JSON number per row.
For 200,000 rows this is 4-5 times faster than a repr or a dict per row, and unlike
pandas's to_json (10 significant digits by default) it loses no precision.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson


def json_values(values: Any) -> list[str]:
    """One JSON text per value: numbers (NaN and infinities as null), booleans, strings,
    None as null; anything else by its str()."""
    array = np.asarray(values)
    if array.size == 0:
        return []
    if array.dtype.kind in "fiub":
        if array.dtype.kind == "f" and array.dtype != np.float64:
            array = array.astype(np.float64)
        text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY).decode()
        return text[1:-1].split(",")
    return [orjson.dumps(v, default=str).decode() for v in array.tolist()]


def json_records(columns: dict[str, Any]) -> list[str]:
    """One JSON object per row, keys in the order given: {"a": 1.5, "b": "x"}."""
    parts: list[list[str]] = []
    for i, (name, values) in enumerate(columns.items()):
        key = ("{" if i == 0 else ",") + orjson.dumps(str(name)).decode() + ":"
        parts.append([key + text for text in json_values(values)])
    if not parts:
        return []
    return [row + "}" for row in map("".join, zip(*parts, strict=True))]
