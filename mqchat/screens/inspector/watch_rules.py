"""The inspector's ``w``: the watch rules with what each fired and holds now, the
newest alerts, and the keys to add a rule (a small form, checked on the spot) or
remove the highlighted one. Changes go through the inspector, which saves them in
``config.toml`` when it can."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Input, Static

from mqchat.config.watch_rules import WatchRule, check_watch_rule
from mqchat.core.text import display_safe
from mqchat.inspector.watch import Watcher
from mqchat.screens.inspector.forms import InspectorDialog, _field
from mqchat.widgets.footer import FittingFooter
from mqchat.widgets.inspector.render import clock_ms, safe_topic

__all__ = ["WatchRuleForm", "WatchRulesScreen", "rule_from_form"]

RECENT_SHOWN = 8


def _number(key: str, text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{key}: expected a number, got {text!r}") from None


def rule_from_form(fields: Mapping[str, str], *, changes: bool) -> WatchRule:
    """The form's texts (``filter``, ``field``, ``above``, ``below``, ``hysteresis``,
    ``silent_s``, ``name``) as a checked rule; ``ValueError`` says what is wrong, as
    for a rule in the file."""
    table: dict[str, object] = {"filter": fields.get("filter", "").strip()}
    for key in ("name", "field"):
        text = fields.get(key, "").strip()
        if text:
            table[key] = text
    for key in ("above", "below", "hysteresis", "silent_s"):
        value = _number(key, fields.get(key, ""))
        if value is not None:
            table[key] = value
    if changes:
        table["changes"] = True
    return check_watch_rule(table)


class WatchRuleForm(InspectorDialog[WatchRule]):
    """A new rule: the filter (prefilled from the selected topic), then what to watch
    for; one mistake at a time, in words."""

    title_text = "New watch rule"
    hint = "enter adds the rule · fill any of above, below, changes, silent · esc cancels"
    BINDINGS = [Binding("ctrl+s", "add", "Add", id="inspector.watch.add_rule")]
    FIELDS = (
        ("filter", "Filter", "e.g. plant/+/boiler"),
        ("field", "JSON field", "e.g. temp or a.b[0]; empty: the payload is a number"),
        ("above", "Above", "alert when the value goes above this"),
        ("below", "Below", "alert when the value goes below this"),
        ("hysteresis", "Hysteresis", "re-arm only once back by this much (default 0)"),
        ("silent_s", "Silent (s)", "alert when a topic says nothing this long"),
        ("name", "Name", "optional: what the alert calls it"),
    )

    def __init__(self, topic_filter: str = "") -> None:
        super().__init__()
        self.topic_filter = topic_filter

    def compose_fields(self) -> ComposeResult:
        for key, label, placeholder in self.FIELDS:
            value = self.topic_filter if key == "filter" else ""
            yield _field(label, Input(value, placeholder=placeholder, id=f"w-{key}"))
            if key == "hysteresis":
                yield Checkbox(
                    "Alert when the payload (or the field) changes", id="w-changes", compact=True
                )

    @on(Input.Submitted)
    def submit(self) -> None:
        self.action_add()

    def action_add(self) -> None:
        fields = {key: self.query_one(f"#w-{key}", Input).value for key, _, _ in self.FIELDS}
        try:
            rule = rule_from_form(fields, changes=self.query_one("#w-changes", Checkbox).value)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss(rule)


class WatchRulesScreen(Screen[None]):
    """The rules of ``watcher``; ``add(rule)`` and ``remove(index)`` change them (and
    return why they could not be saved, if so); ``suggestion()`` is the filter a new
    rule starts with; ``saved`` says whether changes reach ``config.toml``."""

    CSS_PATH = "inspector.tcss"
    BINDINGS = [
        Binding("a", "add", "Add rule", id="inspector.watch.add"),
        Binding("d,delete", "remove", "Remove rule", id="inspector.watch.remove"),
        Binding("escape,w,q", "back", "Back", id="inspector.watch.back"),
    ]

    def __init__(
        self,
        watcher: Watcher,
        *,
        add: Callable[[WatchRule], str | None],
        remove: Callable[[int], str | None],
        suggestion: Callable[[], str],
        saved: bool,
        clock: Callable[[], float],
    ) -> None:
        super().__init__()
        self.watcher = watcher
        self.add_rule = add
        self.remove_rule = remove
        self.suggestion = suggestion
        self.saved = saved
        self.clock = clock

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="watch-table", cursor_type="row")
        where = "saved in config.toml" if self.saved else "for this session"
        table.border_title = f"Watch rules · {where}"
        yield table
        recent = Static(id="watch-recent")
        recent.border_title = "Newest alerts"
        yield recent
        yield FittingFooter(compact=True)

    def on_mount(self) -> None:
        table: DataTable[str | Text] = self.query_one(DataTable)
        for column in ("rule", "filter", "when", "alerts", "now"):
            table.add_column(column, key=column)
        table.focus()
        self.show_rules()
        self.set_interval(1.0, self.show_rules)

    def show_rules(self) -> None:
        """The rules and their figures, the cursor kept on its row."""
        table: DataTable[str | Text] = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        watcher = self.watcher
        for index, rule in enumerate(watcher.rules):
            holding = watcher.holding(index)
            # Text, not str: a DataTable reads a str cell as markup.
            table.add_row(
                Text(display_safe(rule.label)),
                Text(safe_topic(rule.filter) + (f" {rule.field}" if rule.field else "")),
                Text(rule.describe()),
                Text(f"{watcher.fired_by(index):,}"),
                Text(f"{holding:,} alerting", style="bold red") if holding else Text("—"),
            )
        if not watcher.rules:
            table.add_row(Text("no rules yet: a adds one", style="dim italic"), "", "", "", "")
        elif cursor is not None:
            table.move_cursor(row=min(cursor, len(watcher.rules) - 1))
        self.query_one("#watch-recent", Static).update(self._recent())

    def _recent(self) -> Text:
        recent = list(self.watcher.recent)[-RECENT_SHOWN:]
        if not recent:
            return Text("No alert yet.", style="dim italic")
        text = Text()
        for alert in reversed(recent):
            text.append(f"{clock_ms(alert.ts)}  ", style="dim")
            text.append(display_safe(alert.rule.label), style="bold")
            text.append("  ")
            text.append(safe_topic(alert.topic), style="bold red")
            text.append(f"  {display_safe(alert.text())}\n")
        text.rstrip()
        return text

    def action_add(self) -> None:
        self.app.push_screen(WatchRuleForm(self.suggestion()), self._added)

    def _added(self, rule: WatchRule | None) -> None:
        if rule is None:
            return
        problem = self.add_rule(rule)
        self._told(problem, f"watching {rule.label}: {rule.describe()}")
        self.show_rules()
        self.query_one(DataTable).move_cursor(row=len(self.watcher.rules) - 1)

    def action_remove(self) -> None:
        rules = self.watcher.rules
        row = self.query_one(DataTable).cursor_row
        if not rules or row is None or not 0 <= row < len(rules):
            return
        problem = self.remove_rule(row)
        self._told(problem, f"no longer watching {rules[row].label}")
        self.show_rules()

    def _told(self, problem: str | None, done: str) -> None:
        if problem:
            self.notify(problem, title="Not saved", severity="warning", markup=False)
        else:
            self.notify(display_safe(done), title="Watch rules", markup=False)

    def action_back(self) -> None:
        self.dismiss()
