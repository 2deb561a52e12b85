"""The inspector's publish form: topic, payload (several lines allowed), QoS, retain,
and the MQTT 5 properties (content type, user properties, message expiry), prefilled
from the selected topic. It dismisses with a checked
:class:`~mqchat.inspector.backend.PublishRequest`; the screen publishes it. From the
form, ``ctrl+o`` takes a saved or sent publish, ``f2`` saves the form under a name."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Label, TextArea

from mqchat.config.saved_publish import validate_publish_name
from mqchat.core.topic_filter import validate_topic
from mqchat.inspector.backend import PublishRequest
from mqchat.inspector.publishes import Publish, PublishBook, publish_of
from mqchat.screens.inspector.forms import InspectorDialog, _field
from mqchat.screens.inspector.publishes import Chosen, PublishesScreen
from mqchat.widgets.inspector.render import safe_topic

__all__ = ["PublishScreen", "SaveAsScreen", "parse_user_properties", "request_from_form"]

MAX_EXPIRY = 2**32 - 1


def parse_user_properties(text: str) -> tuple[tuple[str, str], ...]:
    """``a=1, b=two`` → ``(("a", "1"), ("b", "two"))``; raises ``ValueError`` for a
    pair without ``=`` or with an empty key."""
    pairs: list[tuple[str, str]] = []
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"user property {part.strip()!r} is not key=value")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def request_from_form(
    *,
    topic: str,
    payload: str,
    qos: str,
    retain: bool,
    content_type: str = "",
    user_properties: str = "",
    expiry: str = "",
) -> PublishRequest:
    """The form's fields as a request; raises ``ValueError`` saying what is wrong."""
    validate_topic(topic)
    if qos.strip() not in ("0", "1", "2"):
        raise ValueError("QoS must be 0, 1 or 2")
    seconds: int | None = None
    if expiry.strip():
        if not expiry.strip().isdigit() or not 0 < int(expiry) <= MAX_EXPIRY:
            raise ValueError(f"the expiry is whole seconds from 1 to {MAX_EXPIRY}")
        seconds = int(expiry)
    return PublishRequest(
        topic=topic,
        payload=payload.encode("utf-8", "surrogateescape"),
        qos=int(qos),
        retain=retain,
        content_type=content_type.strip() or None,
        user_properties=parse_user_properties(user_properties),
        message_expiry=seconds,
    )


class PublishScreen(InspectorDialog[PublishRequest]):
    """The form, prefilled with ``prefill`` (the selected topic's last message, or a
    saved or sent publish), else with ``topic``. With a ``book``, ``ctrl+o`` fills it
    from a saved or sent publish and ``f2`` saves it under a name."""

    title_text = "Publish"
    hint = "ctrl+s publishes (enter too, outside the payload) · esc cancels"
    BINDINGS = [
        Binding("ctrl+s", "publish", "Publish", id="inspector.publish.send"),
        Binding("ctrl+o", "open_publishes", "Saved/sent", id="inspector.publish.open"),
        Binding("f2", "save_as", "Save as…", id="inspector.publish.save"),
    ]

    def __init__(
        self, topic: str = "", *, prefill: Publish | None = None, book: PublishBook | None = None
    ) -> None:
        super().__init__()
        self.prefill = prefill or Publish(topic)
        self.book = book
        if book is not None:
            saving = " · f2 save as…" if book.can_save else ""
            self.hint = f"ctrl+s sends · ctrl+o saved/sent{saving} · esc cancels"

    def compose_fields(self) -> ComposeResult:
        yield _field("Topic", Input(placeholder="e.g. home/room1/light", id="p-topic"))
        payload = TextArea(id="p-payload", soft_wrap=True, compact=True, tab_behavior="focus")
        payload.placeholder = "the message: enter starts a new line"
        yield Horizontal(Label("Payload", classes="field-label"), payload, classes="field payload")
        yield _field("QoS", Input("0", restrict=r"[012]?", max_length=1, id="p-qos"))
        yield Checkbox("Retain", id="p-retain", compact=True)
        yield _field("Content type", Input(placeholder="e.g. application/json", id="p-ctype"))
        yield _field("User props", Input(placeholder="key=value, key=value", id="p-user"))
        yield _field("Expiry (s)", Input(restrict=r"\d*", id="p-expiry"))

    def on_mount(self) -> None:
        self.fill(self.prefill)
        self.query_one("#p-topic", Input).focus()

    def fill(self, publish: Publish) -> None:
        """Put ``publish``'s fields in the form (to be changed or sent)."""
        self.query_one("#p-topic", Input).value = publish.topic
        self.query_one("#p-payload", TextArea).text = publish.payload
        self.query_one("#p-qos", Input).value = str(publish.qos)
        self.query_one("#p-retain", Checkbox).value = publish.retain
        self.query_one("#p-ctype", Input).value = publish.content_type
        self.query_one("#p-user", Input).value = publish.user_properties
        expiry = publish.expiry
        self.query_one("#p-expiry", Input).value = "" if expiry is None else str(expiry)

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def _request(self) -> PublishRequest | None:
        """The form as a request, or ``None`` after saying what is wrong."""
        try:
            return request_from_form(
                topic=self._value("p-topic"),
                payload=self.query_one("#p-payload", TextArea).text,
                qos=self._value("p-qos"),
                retain=self.query_one("#p-retain", Checkbox).value,
                content_type=self._value("p-ctype"),
                user_properties=self._value("p-user"),
                expiry=self._value("p-expiry"),
            )
        except ValueError as exc:
            self.show_error(str(exc))
            return None

    @on(Input.Submitted)
    def submit(self) -> None:
        self.action_publish()

    def action_publish(self) -> None:
        request = self._request()
        if request is not None:
            self.dismiss(request)

    def action_open_publishes(self) -> None:
        if self.book is None:
            return
        self.app.push_screen(PublishesScreen(self.book, filling=True), self._picked)

    def _picked(self, chosen: Chosen | None) -> None:
        if chosen is not None:
            self.fill(chosen.publish)

    def action_save_as(self) -> None:
        if self.book is None or not self.book.can_save:
            self.show_error("no config file to save in")
            return
        request = self._request()  # only what could be sent is saved
        if request is not None:
            self.app.push_screen(SaveAsScreen(sorted(self.book.saved)), self._named)

    def _named(self, name: str | None) -> None:
        request = self._request()
        if name is None or request is None or self.book is None:
            return
        failed = self.book.save(name, publish_of(request))
        if failed:
            self.notify(failed, title="Not saved", severity="error", markup=False)
            return
        self.notify(f"Saved as {safe_topic(name)} in config.toml: p resends it.", markup=False)


class SaveAsScreen(InspectorDialog[str]):
    """The name to save the form's publish under (a name in use is replaced)."""

    title_text = "Save the publish as"
    hint = "enter saves (a name in use is replaced) · esc cancels"

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose_fields(self) -> ComposeResult:
        yield _field("Name", Input(placeholder="e.g. lamp on", id="p-name"))

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        try:
            name = validate_publish_name(event.value)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss(name)
