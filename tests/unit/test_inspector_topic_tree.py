"""The topic tree: counts summed per subtree as messages arrive, empty levels and
``$`` roots, forgetting topics, and the rows a tree widget shows."""

from __future__ import annotations

from mqchat.inspector.topic_tree import PREVIEW_BYTES, TopicTree, TreeRow


def build(*topics: str) -> TopicTree:
    tree = TopicTree()
    for topic in topics:
        tree.add(topic, topic.rsplit("/", 1)[-1].encode())
    return tree


def summary(rows: list[TreeRow]) -> list[tuple[str, int, str, int, bool]]:
    return [(r.path, r.depth, r.label, r.count, r.has_children) for r in rows]


def test_counts_are_summed_per_subtree() -> None:
    tree = build("home/a/t", "home/a/t", "home/a/h", "home/b/t", "office/t")
    assert tree.total == 5 and tree.topic_count == 4
    assert tree.count("home") == 4
    assert tree.count("home/a") == 3
    assert tree.count("home/a/t") == 2
    assert tree.count("office/t") == 1
    assert tree.count("nope") == 0 and tree.count("home/zz") == 0


def test_collapsed_tree_shows_roots_only() -> None:
    tree = build("home/a/t", "$SYS/broker/uptime", "office/t")
    assert summary(tree.visible_rows(set())) == [
        ("$SYS", 0, "$SYS", 1, True),
        ("home", 0, "home", 1, True),
        ("office", 0, "office", 1, True),
    ]


def test_expanded_paths_open_their_nodes_in_natural_order() -> None:
    tree = build("r/room10/t", "r/room2/t", "r/Room1/t", "r/room2/h")
    rows = tree.visible_rows({"r", "r/room2"})
    assert summary(rows) == [
        ("r", 0, "r", 4, True),
        ("r/Room1", 1, "Room1", 1, True),
        ("r/room2", 1, "room2", 2, True),
        ("r/room2/h", 2, "h", 1, False),
        ("r/room2/t", 2, "t", 1, False),
        ("r/room10", 1, "room10", 1, True),
    ]
    assert [r.expanded for r in rows] == [True, False, True, False, False, False]
    assert rows[3].last == "h" and rows[3].is_topic
    assert rows[0].last == "" and not rows[0].is_topic


def test_expanding_a_leaf_or_unknown_path_changes_nothing() -> None:
    tree = build("a/b")
    assert summary(tree.visible_rows({"a/b", "zz"})) == [("a", 0, "a", 1, True)]


def test_empty_levels_are_nodes() -> None:
    tree = build("/lead", "a//b", "a/", "/")
    rows = tree.visible_rows({"", "a", "a/"})
    assert summary(rows) == [
        ("", 0, "∅", 2, True),
        ("/", 1, "∅", 1, False),
        ("/lead", 1, "lead", 1, False),
        ("a", 0, "a", 2, True),
        ("a/", 1, "∅", 2, True),
        ("a//b", 2, "b", 1, False),
    ]
    assert rows[4].is_topic  # "a/" was published to and has a child


def test_a_topic_can_have_messages_and_children() -> None:
    tree = TopicTree()
    tree.add("a", b"parent")
    tree.add("a/b", b"child")
    (row,) = tree.visible_rows(set())
    assert (row.count, row.last, row.has_children, row.is_topic) == (2, "parent", True, True)


def test_last_values_are_previews_of_a_bounded_prefix() -> None:
    tree = TopicTree()
    tree.add("t", b"first")
    tree.add("t", b"x" * 10_000)
    assert tree._leaves["t"].last is not None and len(tree._leaves["t"].last) == PREVIEW_BYTES
    (row,) = tree.visible_rows(set(), preview_width=10)
    assert row.last == "xxxxxxxxx…"
    tree.add("t", b"12.5 \x1b[2J\n", size=11)
    assert tree.visible_rows(set())[0].last == "[hex] 31 32 2e 35 20 1b…"


def test_labels_are_terminal_safe() -> None:
    tree = build("evil\x1b[2J\u202e/x")
    assert tree.visible_rows(set())[0].label == "evil[2J"


def test_forget_takes_a_topic_out_and_prunes_empty_nodes() -> None:
    tree = build("a/b/c", "a/b/c", "a/d", "x")
    tree.forget("a/b/c")
    assert tree.total == 2 and tree.topic_count == 2
    assert tree.count("a") == 1
    assert summary(tree.visible_rows({"a", "a/b"})) == [
        ("a", 0, "a", 1, True),
        ("a/d", 1, "d", 1, False),
        ("x", 0, "x", 1, False),
    ]
    tree.forget("a/d")
    tree.forget("unknown")
    assert summary(tree.visible_rows({"a"})) == [("x", 0, "x", 1, False)]


def test_forgetting_an_inner_topic_keeps_its_children() -> None:
    tree = build("a", "a/b")
    tree.forget("a")
    (row,) = tree.visible_rows(set())
    assert (row.count, row.is_topic, row.last) == (1, False, "")


def test_topics_under_a_path() -> None:
    tree = build("a", "a/b", "a/b/c", "a/c", "ab/x")
    assert tree.topics_under("a") == ["a", "a/b", "a/b/c", "a/c"]
    assert tree.topics_under("a/b/c") == ["a/b/c"]
    assert tree.topics_under("zz") == []


def test_visible_rows_limit_and_clear() -> None:
    tree = build(*(f"t/{i}" for i in range(1000)))
    assert len(tree.visible_rows({"t"}, limit=20)) == 20
    assert [r.label for r in tree.visible_rows({"t"}, limit=4)] == ["t", "0", "1", "2"]
    tree.clear()
    assert tree.total == 0 and tree.visible_rows({"t"}) == []


def test_a_thousand_topics_add_up() -> None:
    tree = TopicTree()
    for i in range(10_000):
        tree.add(f"s/{i % 10}/{i % 100}/{i % 1000}", b"1")
    assert tree.total == 10_000 and tree.topic_count == 1000
    assert tree.count("s/3") == 1000 and tree.count("s/3/13") == 100
