"""Labels as the prediction log holds them, matched to what a model predicts (pure).

A label is stored as JSON text and arrives in whatever spelling its sender used: 1, 1.0,
"1" or true for the class 1, "yes" for "yes". `class_indices` maps each to its position in
the model's classes (``estimator.classes_``) and refuses, with the allowed classes, a value
that names none or more than one; `numbers` reads regression targets.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from store.errors import InvalidInput


def decode_labels(texts: Sequence[str | None], *, field: str = "label") -> list[Any]:
    """JSON label texts (as the prediction log stores them) as values; a row without a
    label or with text that is not JSON is refused with its position."""
    values: list[Any] = []
    for i, text in enumerate(texts):
        if text is None:
            raise InvalidInput(
                f"{field} {i} is missing; pass only labelled rows", field=field, example="1"
            )
        try:
            values.append(json.loads(text))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"{field} {i} is not JSON text: {text!r} ({exc})", field=field, example='"yes"'
            ) from exc
    return values


def _forms(value: Any) -> list[tuple[str, Any]]:
    """The spellings under which a JSON value may name a class, most specific first:
    1, 1.0 and "1" all name the class 1; "yes" names "yes"; true names True."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return [("bool", value)]
    if isinstance(value, int | float):
        return [("num", float(value))] if math.isfinite(value) else []
    if isinstance(value, str):
        forms: list[tuple[str, Any]] = [("str", value)]
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None and math.isfinite(number):
            forms.append(("num", number))
        if text.lower() in ("true", "false"):
            forms.append(("bool", text.lower() == "true"))
        return forms
    return [("str", json.dumps(value, sort_keys=True, default=str))]


def class_indices(values: Sequence[Any], classes: Sequence[Any], *, field: str = "label") -> np.ndarray:
    """Each value's position in ``classes``: a JSON label (1, 1.0, "1", "yes", true) is
    matched to the class it names. A value that names no class, or two, is refused with
    the allowed classes."""
    if len(classes) < 2:
        raise InvalidInput(
            f"a classifier needs at least 2 classes, got {list(classes)!r}", field="classes"
        )
    lookup: dict[tuple[str, Any], int] = {}
    ambiguous: set[tuple[str, Any]] = set()
    for position, cls in enumerate(classes):
        for form in _forms(cls):
            if form in lookup and lookup[form] != position:
                ambiguous.add(form)
            lookup.setdefault(form, position)
    out = np.empty(len(values), dtype=np.int64)
    allowed = ", ".join(json.dumps(c, default=str) for c in classes)
    for i, value in enumerate(values):
        match: int | None = None
        for form in _forms(value):
            if form in ambiguous:
                raise InvalidInput(
                    f"{field} {i} ({value!r}) names more than one of the model's classes "
                    f"({allowed}); give it exactly as the class is spelt",
                    field=field, example=json.dumps(classes[0], default=str),
                )
            if form in lookup:
                match = lookup[form]
                break
        if match is None:
            raise InvalidInput(
                f"{field} {i} ({value!r}) is not one of the model's classes: {allowed}",
                field=field, example=json.dumps(classes[0], default=str),
            )
        out[i] = match
    return out


def numbers(values: Sequence[Any], *, field: str) -> np.ndarray:
    out = np.empty(len(values), dtype=float)
    for i, value in enumerate(values):
        number: float | None = None
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise InvalidInput(
                f"{field} {i} ({value!r}) is not a finite number; a regression {field} is a "
                "number such as 12.5", field=field, example="12.5",
            )
        out[i] = number
    return out
