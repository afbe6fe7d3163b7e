"""Each kind of domain error through each surface: the CLI names a flag or a `wk` command
and exits with its code, HTTP answers the kind's status and names a JSON field (never a
`--flag`), the console names a box, a key or a `:` view (never a flag or a command).

Every error here is raised by the real domain code for a real mistake; the surfaces are
the real ones (`wk` in process, the FastAPI app with its error handler, the Textual app).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from store.errors import Kind, WatchkeeperError

FLAG = re.compile(r"(?<![\w-])--[a-z]")
WK_COMMAND = re.compile(r"'wk |\bwk (models|init|deploy|predictions|quarantine|batch|data)\b")

ROW = {"x1": 0.5, "x2": 1.0, "colour": "red"}


def _cases(store_dir: Path) -> dict[Kind, tuple[list[str], Callable[[], Any], int, str, str]]:
    """kind -> (wk arguments, the same mistake as a domain call, CLI exit code, what the
    CLI must say, what the console must say)."""
    from registry.aliases import promote
    from registry.versions import archive, show_version
    from serving.scoring.local import predict_rows
    from store.handle import open_store

    def store() -> Any:
        return open_store(store_dir)

    missing = store_dir.parent / "no-store-here"
    return {
        Kind.NOT_FOUND: (["models", "show", "tiny", "9"], lambda: show_version(store(), "tiny", 9),
                         1, "see 'wk models versions tiny'", "see :versions tiny"),
        Kind.INVALID: (["models", "promote", "tiny", "1", "production"],
                       lambda: promote(store(), "tiny", 1, "production", reason=""),
                       2, 'add --reason "..."', "type a reason in the box"),
        Kind.REFUSED: (["models", "archive", "tiny", "1", "--yes", "--reason", "old"],
                       lambda: archive(store(), "tiny", 1, reason="old"),
                       5, "see 'wk models show tiny'", "see :versions tiny"),
        Kind.CONFLICT: (["predict", "tiny", "--row", json.dumps(ROW), "--request-id", "r-1"],
                        lambda: predict_rows(store(), "tiny", [ROW], request_id="r-1"),
                        1, "see 'wk predictions list --request-id r-1'", "see :predictions request=r-1"),
        Kind.UNAVAILABLE: (["--store", str(missing), "models", "list"], lambda: open_store(missing),
                           3, "wk init", "no Watchkeeper store"),
    }


@pytest.fixture
def production(wk: Any, trained: Path, store_dir: Path) -> Path:
    """tiny v1 in production, and one prediction answered under request id r-1."""
    assert wk("models", "promote", "tiny", "1", "production", "--reason", "first").code == 0
    assert wk("predict", "tiny", "--row", json.dumps(ROW), "--request-id", "r-1").code == 0
    return store_dir


def _raised(call: Callable[[], Any]) -> WatchkeeperError:
    with pytest.raises(WatchkeeperError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("kind", list(Kind))
def test_the_cli_names_a_flag_or_a_command_and_exits_with_the_kinds_code(
        kind: Kind, wk: Any, production: Path) -> None:
    args, call, code, says, _console = _cases(production)[kind]
    assert _raised(call).kind is kind
    result = wk(*args)
    assert result.code == code, result.err
    assert result.err.startswith("wk: error: ") and says in result.err, result.err


@pytest.mark.parametrize(("kind", "status"), [(Kind.NOT_FOUND, 404), (Kind.INVALID, 422),
                                              (Kind.REFUSED, 403), (Kind.CONFLICT, 409),
                                              (Kind.UNAVAILABLE, 503)])
def test_http_answers_the_kinds_status_and_names_json_fields_not_flags(
        kind: Kind, status: int, production: Path) -> None:
    from serving.http.app import make_app
    from store.handle import open_store

    _args, call, _code, _says, _console = _cases(production)[kind]
    domain_error = _raised(call)
    assert not FLAG.search(domain_error.message) and not WK_COMMAND.search(domain_error.message)
    store = open_store(production)
    app = make_app(store)

    @app.post("/test/domain-error")
    async def raise_it() -> None:  # the same mistake, made by a route of the real app
        call()

    with TestClient(app) as client:
        answer = client.post("/test/domain-error")
    store.close()
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == str(kind)
    assert not FLAG.search(error["message"]) and not WK_COMMAND.search(error["message"]), error
    if domain_error.field is not None:
        assert error["field"] == domain_error.field
        assert f'"{domain_error.field}"' in error["message"]
    if kind is Kind.UNAVAILABLE:
        assert answer.headers["retry-after"] == "1"


def test_http_scoring_errors_name_the_field_not_a_flag(production: Path) -> None:
    """The scoring routes' own refusals: an unknown model, a row with a wrong field."""
    from serving.http.app import make_app
    from store.handle import open_store

    store = open_store(production)
    with TestClient(make_app(store)) as client:
        unknown = client.post("/v1/models/nope/predict", json={"row": ROW})
        bad = client.post("/v1/models/tiny/predict", json={"row": {**ROW, "x1": "many"}})
    store.close()
    assert unknown.status_code == 404 and "GET /v1/models" in unknown.json()["error"]["message"]
    assert bad.status_code == 422
    body = bad.json()["error"]
    assert [p["field"] for p in body["problems"]] == ["x1"]
    for text in (unknown.text, bad.text):
        assert not FLAG.search(text) and not WK_COMMAND.search(text), text


@pytest.mark.parametrize("kind", list(Kind))
def test_the_console_words_the_fix_as_a_box_or_a_view(kind: Kind, production: Path) -> None:
    from console.errors import error_text

    _args, call, _code, _flag, says = _cases(production)[kind]
    text = error_text(_raised(call))
    assert says in text, text
    assert not FLAG.search(text) and not WK_COMMAND.search(text), text


def test_the_console_shows_a_not_found_with_its_view(production: Path) -> None:
    """Through the running console: `:version tiny 9` is answered with the view to open."""
    from console.app import make_app

    async def scenario() -> list[str]:
        app = make_app(production, refresh_interval=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("colon", *"version", "space", *"tiny", "space", "9", "enter")
            for _ in range(200):
                if app._notifications:
                    break
                await pilot.app.workers.wait_for_complete()
                await pilot.pause(0.05)
            return [n.message for n in app._notifications]

    messages = asyncio.run(scenario())
    assert any("has no version 9" in m and "see :versions tiny" in m for m in messages), messages
    assert not any(FLAG.search(m) or WK_COMMAND.search(m) for m in messages), messages


#: flags of other programs that lower layers pass on (git's, in registry/environment.py)
OTHER_PROGRAMS_FLAGS = {"--show-toplevel", "--porcelain", "--untracked-files=no"}


def _messages(source: str) -> list[tuple[int, str]]:
    """Every string literal of a module that is not a docstring, with its line."""
    import ast

    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and node.value not in OTHER_PROGRAMS_FLAGS]


def test_no_lower_layer_message_names_a_flag_or_a_wk_command() -> None:
    root = Path(__file__).resolve().parents[1]
    found = []
    for package in ("store", "registry", "serving"):
        for path in sorted((root / package).rglob("*.py")):
            for line, text in _messages(path.read_text()):
                if FLAG.search(text) or WK_COMMAND.search(text):
                    found.append(f"{path.relative_to(root)}:{line}: {text!r}")
    assert found == [], "\n".join(found)


def test_the_message_check_sees_a_flag_and_a_command() -> None:
    source = '"""Docs may say --json and \'wk models list\'."""\nraise X("add --reason")\nY("see \'wk models list\'")\n'
    texts = [t for _line, t in _messages(source)]
    assert texts == ["add --reason", "see 'wk models list'"]
    assert all(FLAG.search(t) or WK_COMMAND.search(t) for t in texts)
