"""How table columns fit a width (console/columns.py): pure functions, no app."""

from __future__ import annotations

from console.columns import (
    ASCENDING,
    DESCENDING,
    ELLIPSIS,
    GAP,
    Column,
    cut,
    detail,
    fit,
    fitted_cells,
    sorted_by,
)

COLUMNS = (Column("id"), Column("name", 1, min_width=6), Column("note", min_width=8),
           Column("when", 2), Column("who", 3))
ROWS = [("1", "credit-default", "roc_auc 0.7012 is below the minimum 0.75", "2026-11-10 08:00", "oncall"),
        ("22", "churn", "ok", "2026-11-10 09:00", "me")]


def total(layout_widths: tuple[int, ...]) -> int:
    return sum(w + GAP for w in layout_widths)


def test_wide_enough_shows_everything_in_full() -> None:
    layout = fit(COLUMNS, ROWS, 200)
    assert layout.shown == (0, 1, 2, 3, 4)
    assert layout.widths == (2, 14, 40, 16, 6)
    assert detail(COLUMNS, layout, ROWS[0]) == []


def test_narrow_drops_the_highest_priority_number_first_then_cuts() -> None:
    layout = fit(COLUMNS, ROWS, 60)  # every column at its floor fits (48): cut, not hidden
    assert layout.shown == (0, 1, 2, 3, 4) and total(layout.widths) == 60
    assert fitted_cells(COLUMNS, layout, ROWS[0])[2].endswith(ELLIPSIS)
    layout = fit(COLUMNS, ROWS, 45)
    assert layout.shown == (0, 1, 2, 3)  # "who" (3) went first
    assert total(layout.widths) <= 45
    layout = fit(COLUMNS, ROWS, 28)
    assert layout.shown == (0, 1, 2)  # then "when" (2); "id" and "note" (0) always stay
    assert total(layout.widths) <= 28 and (layout.width_of(2) or 0) >= 8


def test_a_column_without_min_width_is_hidden_never_cut() -> None:
    layout = fit(COLUMNS, ROWS, 40)
    when = layout.width_of(3)
    assert when is None or when == 16


def test_a_dropped_column_comes_back_when_a_wider_one_made_room() -> None:
    columns = (Column("a"), Column("broad", 3), Column("narrow", 3))
    rows = [("x" * 10, "b" * 20, "n")]
    layout = fit(columns, rows, 20)
    assert layout.shown == (0, 2)  # "narrow" went first (rightmost), then "broad"; "narrow" fits again


def test_room_widens_a_cut_column_before_taking_back_a_dropped_one() -> None:
    columns = (Column("id"), Column("reason", min_width=10), Column("when", 2), Column("by", 3))
    rows = [("#6", "r" * 60, "2026-11-10 08:00", "oncall")]
    layout = fit(columns, rows, 30)  # "by" then "when" go; "by" would fit again, the reason wants it
    assert layout.shown == (0, 1) and layout.widths == (2, 24)


def test_cut_values_end_with_an_ellipsis_and_ids_keep_their_tail() -> None:
    assert cut("production staging", 10) == "productio" + ELLIPSIS
    assert cut("0193a1b2-c3d4-7e5f-8a9b-0123456789ab", 9, "tail") == ELLIPSIS + "456789ab"
    assert cut("short", 10) == "short"
    ids = ("0193a1b2-c3d4-7e5f-8a9b-0123456789ab", "0193a1b2-c3d4-7e5f-9c8d-fedcba987654")
    columns = (Column("prediction id", min_width=13, keep="tail"),)
    layout = fit(columns, [(i,) for i in ids], 15)
    shown = [fitted_cells(columns, layout, (i,))[0] for i in ids]
    assert len(set(shown)) == 2 and all(s.startswith(ELLIPSIS) for s in shown)


def test_detail_gives_cut_values_then_hidden_ones_in_full() -> None:
    layout = fit(COLUMNS, ROWS, 40)
    assert detail(COLUMNS, layout, ROWS[0])[0] == ("note", ROWS[0][2])
    labels = [label for label, _value in detail(COLUMNS, layout, ROWS[0])]
    assert "who" in labels and labels.index("note") < labels.index("who")


def test_wide_mode_shows_every_column_at_full_width() -> None:
    layout = fit(COLUMNS, ROWS, 30, wide=True)
    assert layout.wide and layout.shown == (0, 1, 2, 3, 4) and layout.widths == (2, 14, 40, 16, 6)


def test_the_sorted_column_is_marked_counted_in_its_width_and_always_shown() -> None:
    assert sorted_by(COLUMNS, None) == COLUMNS
    marked = sorted_by(COLUMNS, (0, False))
    assert [c.label for c in marked] == [f"id{ASCENDING}", "name", "note", "when", "who"]
    assert sorted_by(COLUMNS, (4, True))[4].label == f"who{DESCENDING}"
    # "id" holds values of two characters: the marker widens it rather than being cut off
    assert fit(COLUMNS, ROWS, 200).widths[0] == 2
    assert fit(marked, ROWS, 200).widths[0] == 3
    # sorted by "who" (the first to go at 45), it stays; another column goes instead
    assert 4 not in fit(COLUMNS, ROWS, 45).shown
    layout = fit(sorted_by(COLUMNS, (4, False)), ROWS, 45)
    assert 4 in layout.shown and (layout.width_of(4) or 0) >= len(f"who{ASCENDING}")
    # a column cut to its floor keeps its label and the marker whole: the floor grows by one
    columns = (Column("id"), Column("reason", min_width=6))
    rows = [("#6", "r" * 60)]
    assert fit(columns, rows, 12).widths == (2, 6)
    assert fit(sorted_by(columns, (1, True)), rows, 12).widths == (2, 7)


def test_a_column_kept_out_of_the_detail_line_is_not_listed_when_hidden() -> None:
    """The Overview's sparkline column: hidden at 80 columns, drawn larger by the panel
    under the table, so the detail line does not repeat it."""
    columns = [Column("model"), Column("req/min"), Column("3 h req/min", 3, in_detail=False), Column("ran", 2)]
    cells = ["credit-default", "50", "▁▂▃▄▅▆▇█▇▆▅▄", "9d"]
    layout = fit(columns, [cells], 26)
    assert layout.hidden(4) == (2, 3)
    assert detail(columns, layout, cells) == [("ran", "9d")]
    shown = fit(columns, [cells], 60)
    assert shown.hidden(4) == () and detail(columns, shown, cells) == []
