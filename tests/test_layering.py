"""Dependency direction and lazy imports, checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

LOWER_LAYERS = [
    "store.engine", "store.handle", "store.tables", "store.artifacts", "store.schema",
    "store.registry_queries", "store.audit", "registry.service", "registry.training",
    "registry.reproduce", "registry.spec", "registry.datasource", "sample_models.demo",
    "store.prediction_log", "store.deployments", "store.predictions", "store.quarantine", "store.rollups", "store.batch_runs", "serving.http.app", "serving.http.server", "serving.batch.run",
    "serving.traffic.deployments", "serving.log.reading", "serving.log.feedback", "serving.scoring.local", "serving.traffic.state",
]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_lower_layers_import_neither_console_nor_textual() -> None:
    loaded = _modules_after("\n".join(f"import {m}" for m in LOWER_LAYERS))
    assert not {m for m in loaded if m == "console" or m.startswith("console.")}
    assert "textual" not in loaded


def test_store_does_not_import_upper_layers() -> None:
    loaded = _modules_after("import store.handle, store.tables, store.artifacts, store.audit")
    assert not {m for m in loaded if m.split(".")[0] in {"registry", "console", "serving",
                                                         "scheduler", "monitoring"}}


def test_cli_help_loads_no_heavy_library() -> None:
    loaded = _modules_after(
        "from console.cli import build_parser\nbuild_parser().format_help()")
    heavy = {"pandas", "sklearn", "sqlalchemy", "sqlmodel", "textual", "skops", "alembic", "numpy",
             "fastapi", "uvicorn", "orjson", "prometheus_client"}
    assert not heavy & loaded
