"""The labelling queue of one model: its open tasks (a seeded sample of each window's
unlabelled predictions), each with its inputs and output. enter (or L) asks for a label,
checked against the model's classes before it is sent; x skips; F queues a sample of the
last days' predictions. The same serving.log.labelling functions as `wk label`, with the
same audit events."""

from __future__ import annotations

import json
from typing import Any

from console.action_results import Describe
from console.columns import Column
from console.screens.base import TableScreen
from console.screens.cells import output_text
from console.screens.time_format import local_seconds
from console.widgets.header import StatusHeader
from console.widgets.live_table import TableRow

LABELLING_LIMIT = 500


def _done(result: Any) -> str:
    return str(result.change())


def _filled(added: int) -> str:
    return f"{added} prediction(s) added to the queue" if added else "nothing new to queue"


LABELLING_ACTIONS: dict[str, Describe] = {"label": _done, "skip": _done, "fill": _filled}


def inputs_text(inputs: Any) -> str:
    """The inputs on one line, name=value as received (in full in the detail line and with y)."""
    if not isinstance(inputs, dict):
        return "-"
    return " ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in inputs.items())


def allowed_text(task: dict[str, Any]) -> str:
    if task["label_kind"] == "value":
        return "a number"
    return "/".join(task["classes"]) if task["classes"] else "any"


class LabellingScreen(TableScreen):
    VIEW = "labelling"
    ACTION_RESULTS = LABELLING_ACTIONS
    #: At 80 columns: when, which version, what it answered, what it may be labelled
    #: with, and the inputs (cut; in full in the detail line).
    COLUMNS = (Column("time"), Column("ver", 2), Column("output", min_width=8), Column("labels", 1),
               Column("inputs", min_width=16), Column("prediction id", 3, min_width=13, keep="tail"))

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model

    def title_text(self) -> str:
        return f"labelling {self.model}"

    def fetch(self) -> Any:
        from serving.log import labelling

        return labelling.next_tasks(self.wk.store, self.model, LABELLING_LIMIT)

    def rows_from(self, data: list[dict[str, Any]]) -> list[TableRow]:
        title = self.title_text() + (f" ({len(data)} open)" if data else " (no open tasks: F queues some)")
        self.query_one(StatusHeader).view_title = title
        return [TableRow(t["prediction_id"], (
            local_seconds(t["at"]), f"v{t['version']}", output_text(t["outputs"]), allowed_text(t),
            inputs_text(t["inputs"]), t["prediction_id"]), t) for t in data]

    def on_data_table_row_selected(self, event: Any) -> None:
        self.action_label_task()

    def action_label_task(self) -> None:
        row = self.selected()
        if row is None or not self.allowed("label", "label_task"):
            return
        self.ask_label(row.raw)

    def ask_label(self, task: dict[str, Any], problem: str = "") -> None:
        """The ask modal; a label the prediction cannot take is said, and asked again."""
        from console.widgets.ask_modal import AskModal
        from serving.log import labelling
        from store.errors import InvalidInput

        choices = labelling.LabelChoices(task["label_kind"], {c: c for c in task["classes"]})

        def answered(text: str | None) -> None:
            if text is None:
                return
            try:
                labelling.label_value(choices, text)
            except InvalidInput as exc:
                self.ask_label(task, exc.message)
                return
            self.run_service_action("label", labelling.label_task, self.model, task["prediction_id"], text,
                                    actor=self.wk.user)

        question = f"Label ...{task['prediction_id'][-12:]}: the model said {output_text(task['outputs'])}"
        if problem:
            question = f"{problem}\n{question}"
        self.app.push_screen(AskModal(question, placeholder=choices.allowed()), answered)

    def action_skip_task(self) -> None:
        from serving.log import labelling

        row = self.selected()
        if row is None or not self.allowed("skip", "skip_task"):
            return
        self.run_service_action("skip", labelling.skip_task, self.model, row.key, actor=self.wk.user)

    def action_fill_queue(self) -> None:
        from serving.log import labelling

        if not self.allowed("fill", "fill_queue"):
            return
        now = self.wk.clock()
        self.run_service_action("fill", labelling.fill_queue, self.model, now - labelling.DEFAULT_SPAN, now,
                                actor=self.wk.user)
