"""Damping (monitoring/damping.py): N of the last M evaluations to fire, clear_n clears in
a row to resolve, insufficient data neither; and the figures the issue asks for: over 100
seeded windows of an error rate hovering at its rule's bound, how often the alert changes
state with damping (3 of 5, clear after 3) and how often it would without (1 of 1)."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring import alert_rules
from monitoring.damping import Damping, Step, decide, simulate, state_changes
from store.vocabulary import AlertKind, Condition

H, C, U = Condition.HOLDS, Condition.CLEAR, Condition.INSUFFICIENT
DAMPED = Damping(for_n=3, of_m=5, clear_n=3)
#: over the 100 windows (seed 12) the damped alert changes state at most this often (27:
#: 12 pending, 4 fired, 3 resolved, 8 pending ones dropped), and notifies at most
#: NOTIFIED_BOUND times (7); undamped it changes state 52 times, each one notified
DAMPED_BOUND = 30
NOTIFIED_BOUND = 8


def steps(conditions: list[Condition], damping: Damping = DAMPED) -> list[str]:
    return simulate(conditions, damping)


def test_fires_on_n_of_m_and_resolves_after_consecutive_clears() -> None:
    assert steps([H, C, H, C, H]) == ["pending", "", "", "", "fired"]
    # hysteresis: two clears do not resolve, a hold in between starts the count again
    assert steps([H, H, H, C, C, H, C, C, C]) == ["pending", "", "fired", "", "", "", "", "",
                                                  "resolved"]
    # a pending alert whose condition cleared clear_n times is dropped, never notified
    assert steps([H, C, C, C]) == ["pending", "", "", "dropped"]


def test_insufficient_data_never_fires_nor_resolves() -> None:
    assert steps([U] * 6) == [""] * 6
    assert steps([H, H, H, U, U, U, U, U]) == ["pending", "", "fired", "", "", "", "", ""]
    # a gap of insufficient data breaks a run of clears
    assert steps([H, H, H, C, C, U, C]) == ["pending", "", "fired", "", "", "", ""]
    decision = decide("111", U, DAMPED, open_alert="firing")
    assert decision.step == Step.INSUFFICIENT and decision.recent == "111?"


def test_window_keeps_the_longer_of_m_and_clear_n() -> None:
    decision = decide("0101", H, Damping(2, 3, 6), open_alert=None)
    assert decision.recent == "01011" and decision.held == 2 and decision.step == Step.FIRES
    with pytest.raises(ValueError, match="for_n <= of_m"):
        Damping(4, 3, 1)


def test_hundred_windows_at_the_threshold(record_property: pytest.RecordProperty) -> None:
    rng = np.random.default_rng(12)
    params = alert_rules.params_of(AlertKind.ERROR_RATE, {"rate": 0.05, "min_requests": 100})
    conditions = []
    for _ in range(100):  # a noisy error rate whose mean is the bound itself
        errors = int(rng.binomial(2000, 0.05))
        conditions.append(alert_rules.error_rate(2000 - errors, errors, params).condition)
    damped = state_changes(simulate(conditions, DAMPED))
    plain = state_changes(simulate(conditions, Damping(1, 1, 1)))
    record_property("damped_changes", damped)
    record_property("undamped_changes", plain)
    print(f"\n100 windows at the bound: damped (3 of 5, clear 3) {damped}; "
          f"undamped (1 of 1) {plain}")
    assert damped["total"] <= DAMPED_BOUND
    assert damped["notified"] <= NOTIFIED_BOUND
    assert plain["notified"] == plain["total"] > 5 * damped["notified"]
