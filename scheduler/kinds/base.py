"""What a job kind is: its options (the JSON arguments of a job, also the CLI's flags),
whether it needs a model, and the function a run's child process calls.

A kind module defines `KIND = JobKindSpec(...)` and imports nothing heavy at the top:
the CLI reads every kind's options to build `wk jobs add`, and that must stay fast.
The run function (named "module:function") is imported only in the child that runs it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from store.errors import Failed, InvalidInput

if TYPE_CHECKING:
    from store.handle import Store
    from store.job_tables import Job, JobRun


@dataclass(frozen=True)
class KindOption:
    """One argument of a kind: the key in `Job.args` and the CLI flag `--<name>`."""

    name: str  # snake_case key; the flag is the same with dashes
    help: str
    type: type = str  # str, int or float
    required: bool = False
    default: Any = None
    example: str = ""  # shown in the error when the option is missing or wrong
    repeat: bool = False  # a list of values (the flag may be given more than once)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass
class RunContext:
    """What a kind's run function gets: the store, its job and run (detached copies), the
    job's arguments with defaults filled in, the model's name if the job has one."""

    store: Store
    job: Job
    run: JobRun
    args: dict[str, Any]
    model: str | None
    log: logging.Logger
    #: records the job's state between runs (an on-commit job's last head); set by the child
    save_state: Callable[[dict[str, Any]], None] = field(default=lambda _state: None)
    #: tells the ledger the run is still alive between long steps; set by the child
    heartbeat: Callable[[], None] = field(default=lambda: None)


@dataclass
class Outcome:
    """What a run did, for its ledger row: one line, the rows it processed where the kind
    has rows, and figures for screens and --json (report ids, the version registered)."""

    summary: str
    rows: int | None = None
    result: dict[str, Any] = field(default_factory=dict)


class RunFailed(Failed):
    """The run did its work and the work failed (a refused gate, failing tests): the
    run is marked failed with this message, without a traceback."""


@dataclass(frozen=True)
class JobKindSpec:
    kind: str
    help: str
    run: str  # "module:function", a function (RunContext) -> Outcome
    options: tuple[KindOption, ...] = ()
    needs_model: bool = False
    #: extra checks of the arguments beyond their types ("module:function", args -> args)
    validate: str | None = None
    #: the default timeout of an attempt, in seconds
    timeout_s: int = 3600

    def run_function(self) -> Callable[[RunContext], Outcome]:
        return resolve(self.run)

    def checked_args(self, given: dict[str, Any]) -> dict[str, Any]:
        """`given` with types checked, unknown keys refused and defaults filled in."""
        known = {opt.name: opt for opt in self.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            names = ", ".join(opt.name for opt in self.options) or "none"
            raise InvalidInput(f"a {self.kind} job takes no option {unknown[0]!r}; its options: "
                               f"{names}", field=unknown[0])
        args: dict[str, Any] = {}
        for opt in self.options:
            value = given.get(opt.name, opt.default)
            if value is None:
                if opt.required:
                    raise InvalidInput(f"a {self.kind} job needs its {opt.name} ({opt.help})",
                                       field=opt.name, example=opt.example or None)
                continue
            args[opt.name] = [_typed(opt, v) for v in value] if opt.repeat and isinstance(
                value, list) else _typed(opt, value)
        if self.validate:
            args = resolve(self.validate)(args)
        return args


def _typed(opt: KindOption, value: Any) -> Any:
    if isinstance(value, opt.type) and not (opt.type is int and isinstance(value, bool)):
        return value
    try:
        return opt.type(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{opt.name} must be {'a number' if opt.type in (int, float) else 'text'}, "
            f"not {value!r}", field=opt.name, example=opt.example or None,
        ) from None


def resolve(ref: str) -> Any:
    """The object a "module:name" reference names (imported now)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)
