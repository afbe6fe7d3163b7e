"""Shell completion (issue 9, item 6): argcomplete offers the nouns, the verbs and, from the
store, the model names; a normal run never loads argcomplete."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import Result

from console.cli.completion import complete_model_names
from console.cli.parser import model_name
from store.location import resolve_location
from store.names import model_names


def _complete(line: str, store: Path) -> list[str]:
    """What the shell gets for `line` with the cursor at its end (argcomplete's protocol:
    the words on the file _ARGCOMPLETE_STDOUT_FILENAME names, split by _ARGCOMPLETE_IFS)."""
    out = store.parent / "completions.txt"
    env = {**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_SUPPRESS_SPACE": "0",
           "_ARGCOMPLETE_IFS": "\n", "COMP_LINE": line, "COMP_POINT": str(len(line)),
           "COMP_TYPE": "9", "_ARGCOMPLETE_STDOUT_FILENAME": str(out), "WK_STORE": str(store)}
    subprocess.run([sys.executable, "-m", "console.cli"], env=env, check=True,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    return [w.strip() for w in out.read_text().split("\n") if w.strip()]


def test_the_shell_is_offered_nouns_and_verbs(tmp_path: Path) -> None:
    nouns = _complete("wk ", tmp_path / "store")
    assert {"models", "train", "reproduce", "serve", "deploy", "score", "audit"} <= set(nouns)
    assert _complete("wk mo", tmp_path / "store") == ["models", "monitor"]
    verbs = _complete("wk models ", tmp_path / "store")
    assert {"list", "show", "promote", "rollback", "lineage"} <= set(verbs)
    assert "--json" in _complete("wk models list --j", tmp_path / "store")


def test_model_names_come_from_the_store(wk: Callable[..., Result], trained: Path,
                                         store_dir: Path) -> None:
    assert _complete("wk models show ", store_dir) == ["tiny"]
    assert _complete("wk deploy show t", store_dir) == ["tiny"]
    assert _complete("wk predictions list --model ", store_dir) == ["tiny"]
    assert _complete("wk models show x", store_dir) == []


def test_the_completer_reads_the_store_on_the_command_line(wk: Callable[..., Result],
                                                          trained: Path, store_dir: Path,
                                                          tmp_path: Path) -> None:
    import argparse

    assert complete_model_names("t", argparse.Namespace(store=str(store_dir))) == ["tiny"]
    assert complete_model_names("", argparse.Namespace(store=str(tmp_path / "none"))) == []
    assert model_names(resolve_location(store_dir), "ti") == ["tiny"]
    assert model_names(resolve_location(store_dir), "t_") == []  # LIKE wildcards are literal


def test_a_missing_or_foreign_store_completes_nothing(tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "watchkeeper.db").write_text("not a database")
    assert model_names(resolve_location(tmp_path / "junk")) == []
    assert model_names(resolve_location(tmp_path / "absent")) == []


def test_model_arguments_carry_the_completer() -> None:
    import argparse

    action = model_name(argparse.ArgumentParser().add_argument("name"))
    assert callable(action.completer)  # type: ignore[attr-defined]


def test_a_normal_run_does_not_load_argcomplete() -> None:
    code = ("import sys\nfrom console.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'argcomplete' not in sys.modules, 'argcomplete loaded'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env={
        k: v for k, v in os.environ.items() if k != "_ARGCOMPLETE"})
