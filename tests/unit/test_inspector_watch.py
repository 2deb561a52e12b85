"""The watch rules' evaluator: alerts once per crossing and re-arms when the value is
back (past the hysteresis), on a JSON field or a plain number; a change; a silence on
the timer; marks; and no input at all (bad JSON, NaN, huge numbers, hostile text)
makes it raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mqchat.config.watch_rules import WatchRule, check_watch_rule
from mqchat.core.message import Message
from mqchat.inspector.watch import CHANGE_MARK_S, Watcher, plain_number, reading, shown_number

ROBUST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=200)


def rule(**table: object) -> WatchRule:
    return check_watch_rule(table)


def msg(topic: str, payload: bytes | str, ts: float = 0.0) -> Message:
    data = payload.encode() if isinstance(payload, str) else payload
    return Message(topic, data, 0, False, None, ts)


def kinds(watcher: Watcher) -> list[tuple[str, str]]:
    return [(a.topic, a.kind) for a in watcher.take()]


def test_a_crossing_alerts_once_and_rearms_when_back() -> None:
    watcher = Watcher([rule(filter="plant/+/boiler", field="temp", above=90)])
    temps = [80, 91, 95, 99, 90, 92, 85]
    watcher.observe([msg("plant/a/boiler", f'{{"temp": {t}}}') for t in temps])
    alerts = watcher.take()
    assert [(a.kind, a.value) for a in alerts] == [("above", 91), ("above", 92)]
    assert alerts[0].text() == "temp 91 > 90"
    assert watcher.marked(0.0) == frozenset()  # 85: back under, no longer marked


def test_marked_while_above_and_only_topics_the_filter_matches() -> None:
    watcher = Watcher([rule(filter="plant/+/boiler", field="temp", above=90)])
    watcher.observe(
        [
            msg("plant/a/boiler", '{"temp": 95}'),
            msg("plant/b/boiler", '{"temp": 50}'),
            msg("other/a/boiler", '{"temp": 99}'),
        ]
    )
    assert kinds(watcher) == [("plant/a/boiler", "above")]
    assert watcher.marked(0.0) == {"plant/a/boiler"}
    assert watcher.holding(0) == 1


def test_below_and_hysteresis() -> None:
    watcher = Watcher([rule(filter="t", below=10, above=20, hysteresis=1)])
    for value in ["12", "9.5", "10.5", "9", "11", "9", "21", "19.5", "21", "18", "21"]:
        watcher.observe([msg("t", value)])
    assert [(a.kind, a.value) for a in watcher.take()] == [
        ("below", 9.5),
        ("below", 9),  # 11 >= 10 + 1 re-armed it; 10.5 had not
        ("above", 21),
        ("above", 21),  # 18 <= 20 - 1 re-armed it; 19.5 had not
    ]


def test_a_path_with_arrays_and_the_sparkline_spelling() -> None:
    payload = b'{"a": {"b": [1, {"c": 42}]}, "x.y": 7, "list": [5, 6]}'
    assert (
        reading(payload, check_watch_rule({"filter": "t", "field": "a.b[1].c", "above": 1}).path)
        == 42
    )
    assert reading(payload, rule(filter="t", field='["x.y"]', above=1).path) == 7
    assert reading(payload, rule(filter="t", field="list.1", above=1).path) == 6
    assert reading(payload, rule(filter="t", field="list[2]", above=1).path) is None
    assert reading(payload, rule(filter="t", field="a.b.c", above=1).path) is None


def test_what_is_not_a_reading() -> None:
    path = rule(filter="t", field="v", above=1).path
    for payload in [b"", b"nan", b"NaN", b"true", b"{", b"\xff\xfe", b'"12"x', b"[1]", b"1 2"]:
        assert plain_number(payload) is None, payload
    for payload in [b'{"v": NaN}', b'{"v": true}', b'{"v": null}', b'{"v": "abc"}', b"[1]"]:
        assert reading(payload, path) is None, payload
    assert reading(b'{"v": "23.5"}', path) == 23.5  # a numeric string counts, as in sparklines
    assert reading(b'{"v": 1e400}', path) is None  # no double holds it: not JSON
    assert reading(b'{"v": 1e300}', path) == 1e300
    huge = 10**200
    assert reading(str(huge).encode()) == huge  # exact: no float overflow
    assert shown_number(huge) == "1e+200"
    assert shown_number(10**400) == "~1e400"


def test_a_huge_number_crosses_and_nan_is_ignored() -> None:
    watcher = Watcher([rule(filter="t", above=90)])
    watcher.observe([msg("t", "nan"), msg("t", "9" * 250), msg("t", b"\x00\x1b[31m")])
    alerts = watcher.take()
    assert [a.kind for a in alerts] == ["above"]
    assert alerts[0].text() == "value 1e+250 > 90"


def test_changes_of_the_payload_or_of_a_field() -> None:
    watcher = Watcher(
        [rule(filter="cfg/#", changes=True), rule(filter="dev/+", field="state", changes=True)]
    )
    watcher.observe(
        [
            msg("cfg/a", "one"),  # the first payload is no change
            msg("cfg/a", "one"),
            msg("cfg/a", "two", ts=5.0),
            msg("dev/1", '{"state": 1, "t": 1}'),
            msg("dev/1", '{"state": 1, "t": 2}'),  # another field changed: not this one
            msg("dev/1", '{"state": true, "t": 3}'),  # 1 then true: a change
            msg("dev/1", "not json"),  # the field went away: a change too
        ]
    )
    assert kinds(watcher) == [("cfg/a", "changed"), ("dev/1", "changed"), ("dev/1", "changed")]
    assert watcher.marked(5.0) == {"cfg/a", "dev/1"}
    assert "cfg/a" not in watcher.marked(5.0 + CHANGE_MARK_S + 1)


def test_silence_on_the_timer_rearmed_by_a_message() -> None:
    watcher = Watcher([rule(filter="sensors/#", silent_s=30)], now=100.0)
    watcher.observe([msg("sensors/a", "1", ts=100.0), msg("sensors/b", "1", ts=120.0)])
    watcher.check(129.0)
    assert watcher.take() == []
    watcher.check(131.0)
    alerts = watcher.take()
    assert [(a.topic, a.kind, a.text()) for a in alerts] == [
        ("sensors/a", "silent", "silent for 31 s")
    ]
    watcher.check(140.0)
    assert kinds(watcher) == []  # alerted once, not again every check
    assert watcher.marked(140.0) == {"sensors/a"}
    watcher.observe([msg("sensors/a", "2", ts=141.0)])
    assert watcher.marked(141.0) == frozenset()
    watcher.check(172.0)
    assert kinds(watcher) == [("sensors/a", "silent"), ("sensors/b", "silent")]


def test_nothing_at_all_on_a_filter() -> None:
    watcher = Watcher([rule(filter="plant/pump", silent_s=10)], now=0.0)
    watcher.check(11.0)
    alerts = watcher.take()
    assert [(a.topic, a.kind, a.text()) for a in alerts] == [
        ("plant/pump", "nothing", "nothing on plant/pump for 11 s")
    ]
    assert watcher.marked(11.0) == {"plant/pump"}
    watcher.observe([msg("plant/pump", "on", ts=12.0)])
    assert watcher.marked(12.0) == frozenset()


def test_rules_changed_keep_the_state_of_those_kept() -> None:
    hot = rule(filter="t", above=1)
    watcher = Watcher([hot])
    watcher.observe([msg("t", "5")])
    assert len(watcher.take()) == 1
    watcher.set_rules([hot, rule(filter="u", changes=True)], now=0.0)
    watcher.observe([msg("t", "6"), msg("u", "a"), msg("u", "b")])
    assert kinds(watcher) == [("u", "changed")]  # t was above already: no second alert
    assert watcher.marked(0.0) >= {"t"}
    watcher.set_rules([], now=0.0)
    assert watcher.marked(100.0) == frozenset()
    watcher.observe([msg("t", "7")])
    assert watcher.take() == []


def test_state_is_bounded() -> None:
    watcher = Watcher([rule(filter="#", above=0)], max_tracked=100)
    watcher.observe([msg(f"t/{i}", "1") for i in range(1_000)])
    assert len(watcher.take()) == 1_000
    assert len(watcher.marked(0.0)) == 100  # the first tracked went, and their marks


def test_without_rules_nothing_is_looked_at() -> None:
    watcher = Watcher()
    watcher.observe([msg("t", "1")] * 10)
    assert watcher.take() == [] and watcher.fired == 0


payloads = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=40).map(str.encode),
    st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(min_value=-(10**300), max_value=10**300),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=10),
        ),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from("abv0"), inner, max_size=3)
        ),
        max_leaves=8,
    ).map(lambda value: repr(value).replace("'", '"').encode()),
    st.sampled_from([b'{"v": NaN}', b'{"v": 1e999}', b"-Infinity", b"[" * 5000, b"9" * 5000]),
)


@ROBUST
@given(
    st.lists(st.tuples(st.sampled_from(["a", "a/b", "$SYS/x", "\x1b[2J"]), payloads), max_size=30)
)
def test_no_payload_makes_it_raise(messages: list[tuple[str, bytes]]) -> None:
    watcher = Watcher(
        [
            rule(filter="#", above=0, below=-5, hysteresis=0.5),
            rule(filter="a/#", field="v", above=1, changes=True),
            rule(filter="+/b", field="a[0].b", below=0),
            rule(filter="#", changes=True, silent_s=1),
        ]
    )
    watcher.observe(
        [msg(topic, payload, ts=float(i)) for i, (topic, payload) in enumerate(messages)]
    )
    watcher.check(1e9)
    for alert in watcher.take():
        assert isinstance(alert.text(), str)


@ROBUST
@given(st.lists(st.integers(min_value=-50, max_value=50), max_size=60))
def test_one_alert_per_upward_crossing(values: list[int]) -> None:
    watcher = Watcher([rule(filter="t", above=10)])
    watcher.observe([msg("t", str(v)) for v in values])
    crossings, above = 0, False
    for value in values:
        if value > 10 and not above:
            crossings += 1
        above = value > 10
    assert len(watcher.take()) == crossings
