"""The inspector inside the chat: ``i`` on the friends list (``ctrl+t`` in a
conversation, where ``i`` is typed) opens it on the chat's broker and login,
subscribed to the chat's namespace; ``escape`` comes back and closes its connection."""

from __future__ import annotations

from pathlib import Path

from mqchat.app import LoginDefaults, MqchatApp, make_app
from mqchat.config.settings import Settings
from mqchat.inspector.backend import InspectorBackend
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.inspector.screen import InspectorScreen
from tests.support.fake_backend import NOW, fake_factory, seeded_backend
from tests.support.fake_feed import FakeFeed
from tests.support.screen import screen_text, settle


def build(
    feeds: list[FakeFeed] | None, seen: list[Settings], open_peer: str | None = None
) -> MqchatApp:
    _, connect = fake_factory(seeded_backend())

    def inspector(settings: Settings) -> InspectorBackend:
        seen.append(settings)
        feed = FakeFeed()
        assert feeds is not None
        feeds.append(feed)
        return feed

    app = make_app(
        defaults=LoginDefaults(
            broker="mqtt://bob:s3cret@broker.test:1884", user="alice", data_dir=Path("/tmp/x")
        ),
        connect=connect,
        auto_login=True,
        open_peer=open_peer,
        clock=lambda: NOW,
        cursor_blink=False,
        inspector=None if feeds is None else inspector,
    )
    app.theme = "textual-dark"
    return app


async def test_i_opens_the_inspector_on_the_chat_namespace():
    feeds: list[FakeFeed] = []
    seen: list[Settings] = []
    app = build(feeds, seen)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert "i Inspector" in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)
        [feed] = feeds
        assert feed.started
        assert feed.subs == {"mqchat/#": 0}
        [settings] = seen
        assert settings.broker.label == "broker.test:1884"
        assert settings.mqtt_username == "bob"  # the login of the chat, from its URL
        assert settings.mqtt_password == "s3cret"
        feed.push("mqchat/u/alice/presence", '{"v":1,"state":"online"}', retain=True)
        app.screen.tick()
        await settle(pilot)
        assert "1 msgs" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert feed.stopped
        assert app.backend is not None  # the chat's own connection is untouched


async def test_ctrl_t_opens_it_from_a_conversation():
    feeds: list[FakeFeed] = []
    app = build(feeds, [], open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert feeds[0].stopped


async def test_no_inspector_key_without_a_factory():
    app = build(None, [])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "Inspector" not in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)


async def test_quitting_the_chat_closes_the_inspector_too():
    feeds: list[FakeFeed] = []
    app = build(feeds, [])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert feeds[0].stopped


async def test_closing_and_opening_it_again_keeps_the_capture():
    feeds: list[FakeFeed] = []
    app = build(feeds, [], open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        first = app.screen
        assert isinstance(first, InspectorScreen)
        feeds[0].push("mqchat/u/alice/presence", '{"v":1,"state":"online"}', retain=True)
        feeds[0].push("mqchat/u/bob/presence", '{"v":1,"state":"away"}')
        first.tick()
        await pilot.press("s", *"extra/#", "enter")  # a subscription made in it
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert feeds[0].stopped  # its connection is closed while it is not open
        await pilot.press("ctrl+t")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, InspectorScreen) and again is not first
        second = feeds[1]
        assert second.started and not second.stopped  # the feed resumes
        assert second.subs == {"mqchat/#": 0, "extra/#": 0}
        assert again.model.store.last("mqchat/u/bob/presence") is not None
        text = screen_text(app)
        assert "2 msgs" in text and "bob" in text  # what was captured stays
        second.push("mqchat/u/carol/presence", '{"v":1,"state":"online"}')
        again.tick()
        await settle(pilot)
        assert "3 msgs" in screen_text(app)
        assert again.model.tree.topic_count == 3
