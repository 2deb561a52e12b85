"""`mqchat devices` and `mqchat devices forget` against a real mosquitto, next to
running chat services (protocol v2, docs/protocol.md#devices): the list says which
device is which, and forgetting one clears its record and discards its session, so
nothing more is queued for it."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqchat.chat.backend import DeviceRefused
from mqchat.core.events import ChatReceived, DevicesChanged, TrustChanged
from tests.broker.test_devices import both_know_both, second_device_knows_bob
from tests.support.chat_session import befriend, running
from tests.support.cli import mqchat
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


async def devices_cli(
    broker: Mosquitto, namespace: str, data: Path, *args: str, user: str = "alice"
) -> tuple[int, str, str]:
    """``mqchat devices ARGS`` in a process of its own, off the event loop (the chat
    services of the test keep running meanwhile)."""
    done = await asyncio.to_thread(
        mqchat,
        "devices",
        *args,
        "--user",
        user,
        "--broker",
        broker.url,
        data=data,
        env={"MQCHAT_NAMESPACE": namespace},
    )
    return done.returncode, done.stdout, done.stderr


def session_present(broker: Mosquitto, client_id: str) -> bool:
    """Whether the broker still holds a session for ``client_id``: connect under it
    without a clean start and read the CONNACK's flag."""
    answer: list[bool] = []
    got = threading.Event()

    def on_connect(
        _c: object, _u: object, flags: paho.ConnectFlags, _rc: object, _p: object
    ) -> None:
        answer.append(flags.session_present)
        got.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port, clean_start=False)
    client.loop_start()
    try:
        assert got.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return answer[0]


async def test_devices_lists_both_and_forget_clears_one(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    laptop_dir, server_dir = tmp_path / "laptop", tmp_path / "server"
    async with (
        running(broker, "alice", namespace, laptop_dir) as (laptop, on_laptop),
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
    ):
        await befriend(laptop, on_laptop, bob, on_bob)
        laptop_id = await (await laptop.store()).device_id()
        async with running(broker, "alice", namespace, server_dir) as (server, on_server):
            server_id = await (await server.store()).device_id()
            await second_device_knows_bob(server, on_server)
            await both_know_both(on_laptop, on_server)
        # The server quit cleanly: its record says offline, its session stays.
        await on_laptop.wait_for(
            DevicesChanged,
            lambda e: any(d.device == server_id and not d.online for d in e.devices),
        )

        status, out, err = await devices_cli(broker, namespace, laptop_dir, "--json")
        assert status == 0, err
        rows = [json.loads(line) for line in out.splitlines()]
        assert [(r["device"], r["state"], r["this_device"]) for r in rows] == [
            (laptop_id, "online", True),
            (server_id, "offline", False),
        ]
        assert all(r["label"] and r["since"] for r in rows)

        status, out, err = await devices_cli(broker, namespace, laptop_dir)
        assert status == 0, err
        header, first, second = out.splitlines()
        assert header.split() == ["DEVICE", "LABEL", "STATE", "SINCE"]
        assert first.startswith(laptop_id) and first.endswith("(this device)")
        assert second.startswith(server_id) and " offline " in second
        assert "this device" not in second

        assert set(bob.encryption.devices("alice")) == {laptop_id, server_id}
        mark = len(on_bob.events)
        status, out, err = await devices_cli(broker, namespace, laptop_dir, "forget", server_id)
        assert status == 0, err
        assert out.startswith(f"forgot alice's device {server_id}")
        # Its keys are gone too: nothing more is sealed for it (protocol v3).
        await on_bob.wait_for(
            TrustChanged, lambda e: e.trust.user == "alice" and e.trust.devices == 1, since=mark
        )
        assert set(bob.encryption.devices("alice")) == {laptop_id}
        # Its record is gone, for the running device and for a new look alike.
        await on_laptop.wait_for(
            DevicesChanged, lambda e: [d.device for d in e.devices] == [laptop_id]
        )
        status, out, err = await devices_cli(broker, namespace, laptop_dir, "--json")
        assert [json.loads(line)["device"] for line in out.splitlines()] == [laptop_id]

        # Nothing more is queued for the forgotten device: it has no session.
        hello = await bob.send_text("alice", "after the forget")
        await on_laptop.wait_for(ChatReceived, lambda e: e.message.id == hello.id)
        client_id = f"mqchat-alice-{server_id}"
        assert not await asyncio.to_thread(session_present, broker, client_id)


async def test_forget_refuses_this_device_an_online_one_and_bad_ids(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    laptop_dir, elsewhere = tmp_path / "laptop", tmp_path / "elsewhere"
    async with running(broker, "alice", namespace, laptop_dir) as (laptop, _events):
        laptop_id = await (await laptop.store()).device_id()

        status, out, err = await devices_cli(broker, namespace, laptop_dir, "forget", laptop_id)
        assert (status, out) == (1, "")
        assert (
            err
            == f"mqchat: not forgotten: {laptop_id} is this device; forget it from another one\n"
        )

        # From a data dir that never ran: the laptop is online, so it stays.
        status, out, err = await devices_cli(broker, namespace, elsewhere, "forget", laptop_id)
        assert (status, out) == (1, "")
        assert err == (
            f"mqchat: not forgotten: {laptop_id} is online now: quit mqchat there first\n"
        )
        assert not elsewhere.exists() or not any(elsewhere.iterdir())  # no store made

        for bad in ("XYZ", "a" * 33, "../x"):
            status, out, err = await devices_cli(broker, namespace, elsewhere, "forget", bad)
            assert (status, out) == (1, "")
            assert err.startswith("mqchat: invalid device id") and err.count("\n") == 1

        status, out, err = await devices_cli(broker, namespace, elsewhere, user="carol")
        assert (status, out, err) == (
            0,
            f"carol has no devices on 127.0.0.1:{broker.port} yet\n",
            "",
        )


def test_devices_with_the_broker_down_is_one_line(tmp_path: Path) -> None:
    from tests.support.mosquitto import free_port

    url = f"mqtt://127.0.0.1:{free_port()}"
    for args in ((), ("forget", "abc123")):
        done = mqchat("devices", *args, "--user", "alice", "--broker", url, data=tmp_path)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.startswith("mqchat: ") and done.stderr.count("\n") == 1


async def test_the_chat_forgets_an_offline_device_and_refuses_the_others(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    """ChatService.forget_device, as the TUI's device list calls it."""
    async with running(broker, "alice", namespace, tmp_path / "laptop") as (laptop, on_laptop):
        laptop_id = laptop.this_device
        async with running(broker, "alice", namespace, tmp_path / "server") as (server, on_server):
            server_id = server.this_device
            await both_know_both(on_laptop, on_server)
            with pytest.raises(DeviceRefused, match="online now: quit mqchat there first"):
                await laptop.forget_device(server_id)
        await on_laptop.wait_for(
            DevicesChanged,
            lambda e: any(d.device == server_id and not d.online for d in e.devices),
        )
        assert [d.device for d in laptop.devices()] == [laptop_id, server_id]
        with pytest.raises(DeviceRefused, match="is this device"):
            await laptop.forget_device(laptop_id)
        with pytest.raises(DeviceRefused, match="invalid device id"):
            await laptop.forget_device("not/hex")

        await laptop.forget_device(server_id)
        await on_laptop.wait_for(
            DevicesChanged, lambda e: [d.device for d in e.devices] == [laptop_id]
        )
        assert [d.device for d in laptop.devices()] == [laptop_id]
        client_id = f"mqchat-alice-{server_id}"
        assert not await asyncio.to_thread(session_present, broker, client_id)
