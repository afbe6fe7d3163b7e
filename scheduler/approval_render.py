"""The approval report as Markdown and as one self-contained HTML page (inline CSS and
inline SVG bars; no scripts, no external URL), from scheduler.approval_report's figures."""

from __future__ import annotations

from html import escape
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:940px;
color:#1f2328;line-height:1.45;padding:0 16px}
h1{font-size:1.45em;margin-bottom:4px}h2{font-size:1.12em;margin-top:28px;
border-bottom:1px solid #d0d7de;padding-bottom:4px}
.sub{color:#59636e;margin-top:0}
table{border-collapse:collapse;margin:8px 0 4px;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:4px 9px;text-align:right}
th{background:#f6f8fa;white-space:nowrap}td.l,th.l{text-align:left}
.good{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.badge{display:inline-block;padding:2px 9px;border-radius:10px;font-weight:600;font-size:.9em}
.pass{background:#dafbe1;color:#1a7f37}.fail{background:#ffebe9;color:#cf222e}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px}
.drift{color:#cf222e;font-weight:600}.muted{color:#59636e}
svg{vertical-align:middle}.sides{display:flex;gap:24px;flex-wrap:wrap}
.sides>div{flex:1 1 360px}.sides table{font-size:.84em}.sides th,.sides td{padding:3px 6px}
td{white-space:nowrap}td.l{white-space:normal}
h3{font-size:1em;margin:14px 0 4px}
"""
CANDIDATE_COLOUR, PRODUCTION_COLOUR = "#0969da", "#8c959f"


def _n(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _p(value: float | None) -> str:
    """A p-value: four decimals, or two significant digits below 0.0001 (not 0.0000)."""
    if value is None:
        return "-"
    return f"{value:.4f}" if value >= 1e-4 else f"{value:.1e}"


def _delta(value: float | None) -> str:
    return "-" if value is None else f"{value:+.4f}"


def _title(r: dict[str, Any]) -> str:
    against = f"production v{r['production']}" if r["production"] else "no production version"
    return f"{r['model']} v{r['candidate']} for approval (against {against})"


def _intro(r: dict[str, Any]) -> str:
    holdout = r["holdout"]
    return (f"Compared on the same {holdout['rows']} holdout rows (split {holdout['split'] or '?'}) "
            f"held out by training run {r['run_id']}; written {r['written_at']}.")


def _gate_line(gate: dict[str, Any]) -> str:
    if not gate:
        return "no gate recorded"
    status = "passed" if gate.get("passed") else "failed"
    checks = "; ".join(
        f"{c['check']} {c['threshold']}: {_n(c['value'])} {'ok' if c['passed'] else 'FAILED'}"
        for c in gate.get("checks") or [])
    reasons = "; ".join(gate.get("reasons") or [])
    return (f"{status} on {gate.get('metric')}" + (f" ({checks})" if checks else "")
            + (f": {reasons}" if reasons else ""))


# -- Markdown ---------------------------------------------------------------------------


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
            *("| " + " | ".join(row) + " |" for row in rows), ""]


def _md_breakdown(r: dict[str, Any]) -> list[str]:
    b = r["breakdown"]
    sides = [s for s in ("candidate", "production") if s in b]
    out: list[str] = []
    for side in sides:
        label = f"{side} v{r[side]}"
        if b["kind"] == "classes":
            out += [f"### Per class: {label}", ""]
            out += _md_table(["class", "precision", "recall", "f1", "support"],
                             [[c["class"], _n(c["precision"]), _n(c["recall"]), _n(c["f1"]),
                               str(c["support"])] for c in b[side]["per_class"]])
            classes = b[side]["classes"]
            out += [f"Confusion matrix ({label}; rows true, columns predicted)", ""]
            out += _md_table(["true \\ predicted", *classes],
                             [[c, *map(str, row)] for c, row in zip(classes, b[side]["confusion"],
                                                                    strict=True)])
        else:
            q = b[side]["quantiles"]
            out += [f"### Residuals (truth - prediction): {label}", ""]
            out += _md_table(["mean", *q], [[_n(b[side]["mean"]), *(_n(v) for v in q.values())]])
            out += _md_table(["target decile", "rows", "MAE"],
                             [[d["target"], str(d["rows"]), _n(d["mae"])]
                              for d in b[side]["by_target_decile"]])
    return out


def _md_drift(drift: dict[str, Any]) -> list[str]:
    if drift["status"] != "compared":
        return [f"Not compared: {drift['status']}.", ""]
    moved = drift["moved"]
    out = [f"{len(moved)} of {len(drift['features'])} features moved"
           + (f": {', '.join(moved)}" if moved else "") + ".", ""]
    return out + _md_table(["feature", "status", "test", "p-value", "reason"],
                           [[f["feature"], f["status"], f["test"] or "-", _p(f["p_value"]),
                             f["reason"]] for f in drift["features"]])


def render_markdown(r: dict[str, Any]) -> str:
    lines = [f"# {_title(r)}", "", _intro(r), ""]
    lines += [f"> {note}" for note in r["notes"]] + ([""] if r["notes"] else [])
    if r["production"] is None:
        lines += ["There is no production version yet: the candidate is shown alone.", ""]
    lines += ["## Metrics", ""]
    lines += _md_table(["metric", f"candidate v{r['candidate']}",
                        f"production v{r['production']}" if r["production"] else "production",
                        "delta", ""],
                       [[name, _n(m["candidate"]), _n(m["production"]), _delta(m["delta"]),
                         {True: "better", False: "worse", None: ""}[m["better"]]]
                        for name, m in r["metrics"].items()])
    lines += ["## Gate", "", _gate_line(r["gate"]), ""]
    lines += ["## Breakdown", "", *_md_breakdown(r)]
    lines += ["## Training data drift against production", "", *_md_drift(r["drift"])]
    commit = (r.get("code_version") or {}).get("git_commit")
    if commit:
        lines += [f"Training code: commit {commit}", ""]
    return "\n".join(lines)


# -- HTML -------------------------------------------------------------------------------


def _bars(values: list[tuple[float | None, str]], scale: float, width: int = 160) -> str:
    """Horizontal bars, one per (value, colour), as inline SVG."""
    rows = [(v, c) for v, c in values if v is not None]
    height = 9 * len(rows) + 2
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-hidden="true">']
    for i, (value, colour) in enumerate(rows):
        w = 0.0 if scale <= 0 else max(0.0, min(1.0, abs(value) / scale)) * width
        parts.append(f'<rect x="0" y="{1 + i * 9}" width="{w:.1f}" height="7" fill="{colour}"/>')
    return "".join(parts) + "</svg>"


def _html_table(headers: list[str], rows: list[list[str]],
                left: tuple[int, ...] = (0,)) -> str:
    """A table of ready HTML cells; the columns in `left` are left-aligned (text)."""
    head = "".join(f'<th class="{"l" if i in left else ""}">{h}</th>'
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="{"l" if i in left else ""}">{cell}</td>'
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_metrics(r: dict[str, Any]) -> str:
    rows = []
    for name, m in r["metrics"].items():
        scale = max(abs(m["candidate"]), abs(m["production"] or 0.0)) or 1.0
        verdict = {True: '<span class="good">better</span>',
                   False: '<span class="bad">worse</span>', None: ""}[m["better"]]
        rows.append([escape(name), _n(m["candidate"]), _n(m["production"]),
                     _delta(m["delta"]) + " " + verdict,
                     _bars([(m["candidate"], CANDIDATE_COLOUR),
                            (m["production"], PRODUCTION_COLOUR)], scale)])
    prod = f"production v{r['production']}" if r["production"] else "production"
    return _html_table(["metric", f"candidate v{r['candidate']}", prod, "delta", ""], rows)


def _confusion(classes: list[str], matrix: list[list[int]]) -> str:
    top = max((v for row in matrix for v in row), default=0) or 1
    head = "".join(f"<th>{escape(c)}</th>" for c in classes)
    body = "".join(
        f'<tr><th class="l">{escape(c)}</th>' + "".join(
            f'<td style="min-width:48px;background:rgba(9,105,218,{0.06 + 0.55 * v / top:.2f})">'
            f"{v}</td>" for v in row) + "</tr>"
        for c, row in zip(classes, matrix, strict=True))
    return (f'<table><thead><tr><th class="l">true \\ predicted</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _html_breakdown(r: dict[str, Any]) -> str:
    b = r["breakdown"]
    out = []
    sides = [s for s in ("candidate", "production") if s in b]
    # one scale for both sides' MAE bars, so their lengths compare
    top = max((d["mae"] for s in sides if b["kind"] == "residuals"
               for d in b[s]["by_target_decile"]), default=0.0) or 1.0
    for side in sides:
        label = f"{side} v{r[side]}"
        colour = CANDIDATE_COLOUR if side == "candidate" else PRODUCTION_COLOUR
        if b["kind"] == "classes":
            rows = [[escape(c["class"]), _n(c["precision"]), _n(c["recall"]),
                     _n(c["f1"]) + " " + _bars([(c["f1"], colour)], 1.0, 80), str(c["support"])]
                    for c in b[side]["per_class"]]
            out.append(f"<h3>Per class: {label}</h3>"
                       + _html_table(["class", "precision", "recall", "f1", "support"], rows)
                       + '<p class="muted">Confusion matrix (rows: true class, columns: '
                         "predicted)</p>"
                       + _confusion(b[side]["classes"], b[side]["confusion"]))
        else:
            q = b[side]["quantiles"]
            out.append(f"<h3>Residuals (truth - prediction): {label}</h3>"
                       + _html_table(["mean", *q], [[_n(b[side]["mean"]),
                                                    *(_n(v) for v in q.values())]], left=())
                       + _html_table(["target decile", "rows", "MAE"],
                                     [[escape(d["target"]), str(d["rows"]),
                                       _n(d["mae"]) + " " + _bars([(d["mae"], colour)], top, 80)]
                                      for d in b[side]["by_target_decile"]]))
    return f'<div class="sides">{"".join(f"<div>{part}</div>" for part in out)}</div>'


def _html_drift(drift: dict[str, Any]) -> str:
    if drift["status"] != "compared":
        return f'<p class="muted">Not compared: {escape(drift["status"])}.</p>'
    moved = drift["moved"]
    head = (f"<p>{len(moved)} of {len(drift['features'])} features moved"
            + (f': <span class="drift">{escape(", ".join(moved))}</span>' if moved else "")
            + ".</p>")
    rows = [[escape(f["feature"]),
             f'<span class="drift">{f["status"]}</span>' if f["status"] == "drift"
             else escape(f["status"]), escape(f["test"] or "-"), _p(f["p_value"]),
             escape(f["reason"])] for f in drift["features"]]
    return head + _html_table(["feature", "status", "test", "p-value", "reason"], rows,
                              left=(0, 1, 2, 4))


def render_html(r: dict[str, Any]) -> str:
    gate = r["gate"]
    badge = ('<span class="badge pass">gate passed</span>' if gate.get("passed")
             else '<span class="badge fail">gate failed</span>')
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in r["notes"])
    if r["production"] is None:
        notes += ('<p class="note">There is no production version yet: the candidate is '
                  "shown alone.</p>")
    legend = (f'<p class="muted"><svg width="10" height="10"><rect width="10" height="10" '
              f'fill="{CANDIDATE_COLOUR}"/></svg> candidate &nbsp; <svg width="10" height="10">'
              f'<rect width="10" height="10" fill="{PRODUCTION_COLOUR}"/></svg> production</p>')
    commit = (r.get("code_version") or {}).get("git_commit")
    code = f'<p class="muted">Training code: commit {escape(commit)}</p>' if commit else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(_title(r))}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(_title(r))}</h1><p class=\"sub\">{escape(_intro(r))}</p>{notes}"
        f"<h2>Metrics {badge}</h2>{legend}{_html_metrics(r)}"
        f"<p>Gate: {escape(_gate_line(gate))}</p>"
        f"<h2>Breakdown</h2>{_html_breakdown(r)}"
        f"<h2>Training data drift against production</h2>{_html_drift(r['drift'])}"
        f"{code}</body></html>\n"
    )
