"""The request bodies and error answers of the scoring routes, for the OpenAPI docs (the
hot routes read the raw body, so FastAPI cannot infer them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

JSON = "application/json"

PREDICT_BODY = {
    "requestBody": {"required": True, "content": {JSON: {"schema": {
        "type": "object",
        "properties": {
            "row": {"type": "object", "description": "one input row: field -> value"},
            "rows": {"type": "array", "items": {"type": "object"}, "maxItems": 10000},
            "request_id": {"type": "string", "maxLength": 200,
                           "description": "your id; a retry with it gets the first answer back"},
            "key": {"type": "string", "maxLength": 200, "description": "A/B routing is sticky per key"},
        },
    }}}},
}
INVOCATIONS_BODY = {
    "requestBody": {"required": True, "content": {JSON: {"schema": {
        "type": "object", "description": "MLflow scoring format: exactly one of the properties",
        "properties": {
            "dataframe_split": {"type": "object", "properties": {
                "columns": {"type": "array", "items": {"type": "string"}},
                "data": {"type": "array", "items": {"type": "array"}}}},
            "dataframe_records": {"type": "array", "items": {"type": "object"}},
            "instances": {"type": "array", "items": {"type": "object"}},
            "inputs": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]},
        },
    }}}},
}
FEEDBACK_BODY = {
    "requestBody": {"required": True, "content": {JSON: {"schema": {
        "type": "object",
        "description": "one label, or {\"labels\": [...]}: by prediction_id, or by request_id "
                       "(with model, and row for a request of several rows)",
        "properties": {
            "prediction_id": {"type": "string"}, "request_id": {"type": "string"},
            "model": {"type": "string"}, "row": {"type": "integer", "minimum": 0},
            "label": {"description": "the true class or value"},
            "labels": {"type": "array", "items": {"type": "object"}},
        },
    }}}},
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not JSON"},
    401: {"description": "no API token, or one that is unknown, revoked or expired"},
    403: {"description": "the token is not scoped to this model"},
    404: {"description": "no such model is served"},
    413: {"description": "the body is too large"},
    429: {"description": "the token's or the model's rate limit; retry after Retry-After seconds"},
    422: {"description": "the rows do not match the model's signature; the body names each problem"},
    503: {"description": "the model cannot answer now (not loaded, the log is behind); retry"},
    504: {"description": "the model did not answer in time"},
}


BEARER = "bearerAuth"
#: what every route but the open ones may answer about its token
AUTH_RESPONSES: dict[str, dict[str, Any]] = {
    "401": {"description": "no API token, or one that is unknown, revoked or expired"},
    "429": {"description": "the token's rate limit; retry after Retry-After seconds"},
}


def with_bearer_scheme(app: FastAPI, open_paths: tuple[str, ...]) -> None:
    """Declare `Authorization: Bearer <token>` in the app's OpenAPI document: needed by
    every operation but those of `open_paths`, which also say they need nothing."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        doc.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = {
            "type": "http", "scheme": "bearer",
            "description": "an API token (an admin creates it; its secret is shown once)"}
        doc["security"] = [{BEARER: []}]
        for path, operations in doc.get("paths", {}).items():
            for operation in operations.values():
                if path in open_paths:
                    operation["security"] = []
                    continue
                responses = operation.setdefault("responses", {})
                for status, answer in AUTH_RESPONSES.items():
                    responses.setdefault(status, answer)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
