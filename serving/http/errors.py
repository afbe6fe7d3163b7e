"""How the HTTP surface answers an error: the status from the error's kind, and a body
naming the problem, the JSON field concerned (never a command-line flag) and each row's
problems. Request parsers raise RequestError; the scoring core returns a Rejection; any
other domain error (store.errors) is answered by its kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from serving.scoring.core import Rejection
from serving.scoring.validation import RowError
from store.errors import InvalidInput, Kind, Listing, WatchkeeperError

STATUS_OF_KIND = {
    Kind.NOT_FOUND: 404,
    Kind.INVALID: 422,
    Kind.REFUSED: 403,
    Kind.CONFLICT: 409,
    Kind.UNAVAILABLE: 503,
}
MAX_PROBLEMS = 100


def status_of(kind: Kind) -> int:
    return STATUS_OF_KIND[kind]


class RequestError(InvalidInput):
    """A request refused before any row is scored: its body, its size, a header or a field.
    Invalid input, so 422, unless `status` says otherwise (400 for a body that is not
    JSON or a bad header, 413 for a body too large)."""

    def __init__(self, message: str, *, code: str = "invalid_request", status: int | None = None,
                 problems: list[RowError] | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code
        self.problems = problems or []
        self.status = status or status_of(self.kind)


@dataclass
class HttpProblem:
    """An error answer: status, code, message and what the body says about the input."""

    status: int
    code: str
    message: str
    problems: list[RowError] = field(default_factory=list)
    field: str | None = None
    headers: dict[str, str] | None = None
    #: the input was refused (a 4xx about the request), not a failure on the server's side
    input_refused: bool = False

    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.problems:
            error["problems"] = [{"row": p.row, "field": p.field, "problem": p.problem}
                                 for p in self.problems[:MAX_PROBLEMS]]
            if len(self.problems) > MAX_PROBLEMS:
                error["more_problems"] = len(self.problems) - MAX_PROBLEMS
        return error


def request_problem(exc: RequestError) -> HttpProblem:
    return HttpProblem(exc.status, exc.code, exc.message, exc.problems, exc.field, input_refused=True)


def rejection_problem(rejection: Rejection) -> HttpProblem:
    return HttpProblem(status_of(rejection.kind), rejection.code, rejection.message, rejection.problems,
                       input_refused=True)


#: where a listing can be looked up over HTTP (the others have no endpoint)
ENDPOINT_OF_LISTING = {Listing.MODELS: "GET /v1/models"}


def http_text(exc: WatchkeeperError) -> str:
    """The message with the fix in HTTP terms: the JSON field to correct (also given as the
    body's "field") and the endpoint that lists the values; never a command-line flag."""
    parts = [exc.message]
    if exc.field is not None:
        parts.append(f'correct the JSON field "{exc.field}"' if exc.kind is Kind.INVALID
                     else f'the JSON field concerned is "{exc.field}"')
    if exc.see is not None and (endpoint := ENDPOINT_OF_LISTING.get(exc.see.listing)):
        parts.append(f"see {endpoint}")
    return "; ".join(parts)


def domain_problem(exc: WatchkeeperError, code: str) -> HttpProblem:
    """Any domain error, answered by its kind, with the fix worded for an HTTP client."""
    headers = {"Retry-After": "1"} if exc.kind is Kind.UNAVAILABLE else None
    return HttpProblem(status_of(exc.kind), code, http_text(exc), field=exc.field, headers=headers,
                       input_refused=exc.kind is not Kind.UNAVAILABLE)
