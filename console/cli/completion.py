"""Shell completion with argcomplete: nouns, verbs and options from the parser, model
names from the store.

`main` imports this module only when the shell asks for completions (argcomplete sets
`_ARGCOMPLETE`), so a normal run and `wk --help` load neither argcomplete nor anything
else from here. The model-name completer reads the SQLite file with the standard
library (`store.names`), so a Tab press costs milliseconds, not an ORM import."""

from __future__ import annotations

import argparse
from typing import Any


def complete_model_names(prefix: str, parsed_args: argparse.Namespace | None = None,
                         **_: Any) -> list[str]:
    """argcomplete's completer for a model name: the models in the store the command
    line names (`--store`, else `WK_STORE`, else the default)."""
    from store.location import resolve_location
    from store.names import model_names

    store = getattr(parsed_args, "store", None) if parsed_args is not None else None
    return model_names(resolve_location(store), prefix)


def autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit (argcomplete's protocol). Options
    are offered once a `-` is typed, so `wk models show <Tab>` lists models, not flags."""
    import argcomplete

    argcomplete.autocomplete(parser, always_complete_options=False)
