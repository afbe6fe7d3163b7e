"""Damping: whether a rule's target becomes pending, fires, stays, resolves, or has too
little data, from its recent evaluations (AlertRuleState.recent: '1' the condition held,
'0' clear, '?' insufficient data; newest last) and the newest condition.

It fires when the condition held in `for_n` of the last `of_m` evaluations and resolves
only after `clear_n` consecutive clear ones (hysteresis), so a metric sitting on its
threshold does not flap. Insufficient data never fires and never resolves: it breaks a
run of clears and counts as "not held" in the window. Pure functions over plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from store.vocabulary import Condition

SYMBOL = {Condition.HOLDS: "1", Condition.CLEAR: "0", Condition.INSUFFICIENT: "?"}


class Step(StrEnum):
    """What one evaluation does to a target's alert."""

    NONE = "none"  # no alert and none starts
    PENDING = "pending"  # an alert starts, pending (held, not yet for_n of of_m)
    FIRES = "fires"  # a new or pending alert fires
    STAYS = "stays"  # an open alert stays as it is (pending or firing)
    RESOLVES = "resolves"  # an open alert resolves (clear_n clears in a row)
    INSUFFICIENT = "insufficient"  # too little data: nothing changes


@dataclass(frozen=True)
class Damping:
    for_n: int = 1
    of_m: int = 1
    clear_n: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.for_n <= self.of_m:
            raise ValueError(f"damping needs 1 <= for_n <= of_m, got {self.for_n} of {self.of_m}")
        if self.clear_n < 1:
            raise ValueError(f"damping needs clear_n >= 1, got {self.clear_n}")

    @property
    def keep(self) -> int:
        """How many evaluations the window string keeps."""
        return max(self.of_m, self.clear_n)


@dataclass(frozen=True)
class Decision:
    recent: str  # the window with the new evaluation, to store
    step: Step
    held: int  # evaluations that held among the last of_m
    clears: int  # consecutive clear evaluations, newest last


def trailing_clears(recent: str) -> int:
    return len(recent) - len(recent.rstrip("0"))


def decide(recent: str, condition: Condition, damping: Damping, *, open_alert: str | None) -> Decision:
    """`open_alert`: None (no open alert), "pending", or any other open state (firing,
    acknowledged, silenced: the alert has fired)."""
    window = (recent + SYMBOL[Condition(condition)])[-damping.keep:]
    held = window[-damping.of_m:].count("1")
    clears = trailing_clears(window)
    if condition == Condition.INSUFFICIENT:
        return Decision(window, Step.INSUFFICIENT, held, clears)
    fires = condition == Condition.HOLDS and held >= damping.for_n
    if open_alert is None:
        step = Step.FIRES if fires else Step.PENDING if condition == Condition.HOLDS else Step.NONE
    elif open_alert == "pending":
        step = (Step.FIRES if fires else Step.RESOLVES if clears >= damping.clear_n
                else Step.STAYS)
    else:
        step = Step.RESOLVES if clears >= damping.clear_n else Step.STAYS
    return Decision(window, step, held, clears)


def simulate(conditions: list[Condition], damping: Damping) -> list[str]:
    """The state changes a sequence of evaluations gives, one word per evaluation:
    "pending", "fired", "resolved" (after firing), "dropped" (a pending alert whose
    condition cleared before it fired: never notified) or "" (no change)."""
    recent, state, changes = "", None, []
    for condition in conditions:
        decision = decide(recent, condition, damping, open_alert=state)
        recent = decision.recent
        change = ""
        if decision.step == Step.PENDING:
            state, change = "pending", "pending"
        elif decision.step == Step.FIRES:
            state, change = "firing", "fired"
        elif decision.step == Step.RESOLVES:
            change = "dropped" if state == "pending" else "resolved"
            state = None
        changes.append(change)
    return changes


def state_changes(changes: list[str]) -> dict[str, int]:
    """How often the alert changed state, by change, with the total and the notified
    ones (fired and resolved: what an on-call engineer receives)."""
    out = {word: changes.count(word) for word in ("pending", "fired", "resolved", "dropped")}
    out["total"] = sum(out.values())
    out["notified"] = out["fired"] + out["resolved"]
    return out
