"""`wk serve`: uvicorn running the API, with JSON-lines logs (one object per line, for
log shippers and `jq`), graceful drain on SIGTERM (uvicorn finishes in-flight requests,
then the prediction log commits what is queued before the process exits)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from serving.http.api import ServerConfig
    from store.handle import Store


#: what a log call may add with `extra={...}`, copied into its line when present, so a
#: line about one request, prediction or job run can be found with `jq 'select(.run_id==7)'`
CONTEXT_FIELDS = ("request_id", "prediction_id", "model", "version", "run_id", "job", "pid",
                  "attempt", "status")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def json_logging(level: int = logging.INFO) -> dict[str, object]:
    """A logging config (dictConfig) for the daemon and uvicorn: JSON lines on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLines}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["stderr"], "level": level, "propagate": False},
            "alembic": {"level": logging.WARNING},
        },
    }


def serve(store: Store, config: ServerConfig, *, host: str = "127.0.0.1", port: int = 8765,
          access_log: bool = False, log_level: int = logging.INFO) -> None:
    import uvicorn

    from serving.http.app import ScoringFastPath, make_app

    app = make_app(store, config)
    # The scoring paths go straight to the handler from the outermost layer, past
    # FastAPI's own middleware stack (telemetry, body limit, error pages: about 0.05 ms
    # a request); the handler limits bodies and answers its own errors. No proxy headers:
    # wk serve listens on a local address and never reads the client's address.
    uvicorn.run(ScoringFastPath(app, app.state.api), host=host, port=port, log_config=json_logging(log_level),
                access_log=access_log, timeout_graceful_shutdown=30, server_header=False, proxy_headers=False)
    sys.stderr.flush()
