"""The inspector's publish form: topic, payload (several lines allowed), QoS, retain,
and the MQTT 5 properties (content type, user properties, message expiry). It
dismisses with a checked :class:`~mqchat.inspector.backend.PublishRequest`; the
screen publishes it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Label, TextArea

from mqchat.core.topic_filter import validate_topic
from mqchat.inspector.backend import PublishRequest
from mqchat.screens.inspector.forms import InspectorDialog, _field

__all__ = ["PublishScreen", "parse_user_properties", "request_from_form"]

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
    title_text = "Publish"
    hint = "ctrl+s publishes (enter too, outside the payload) · esc cancels"
    BINDINGS = [Binding("ctrl+s", "publish", "Publish", id="inspector.publish.send")]

    def __init__(self, topic: str = "") -> None:
        super().__init__()
        self.topic = topic

    def compose_fields(self) -> ComposeResult:
        yield _field("Topic", Input(self.topic, placeholder="e.g. home/room1/light", id="p-topic"))
        payload = TextArea(id="p-payload", soft_wrap=True, compact=True, tab_behavior="focus")
        payload.placeholder = "the message: enter starts a new line"
        yield Horizontal(Label("Payload", classes="field-label"), payload, classes="field payload")
        yield _field("QoS", Input("0", restrict=r"[012]?", max_length=1, id="p-qos"))
        yield Checkbox("Retain", id="p-retain", compact=True)
        yield _field("Content type", Input(placeholder="e.g. application/json", id="p-ctype"))
        yield _field("User props", Input(placeholder="key=value, key=value", id="p-user"))
        yield _field("Expiry (s)", Input(restrict=r"\d*", id="p-expiry"))

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    @on(Input.Submitted)
    def submit(self) -> None:
        self.action_publish()

    def action_publish(self) -> None:
        try:
            request = request_from_form(
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
            return
        self.dismiss(request)
