"""Names and bodies from peers as they are shown: no invisible characters to hide
behind, no towers of combining marks, and the legitimate uses of both kept."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqchat.core.text import MAX_BODY_MARKS, MAX_NAME_MARKS, display_safe, safe_body, safe_name

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZALGO = "z" + "".join(chr(0x0300 + i % 0x70) for i in range(300))
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈
CODER = "\U0001f469\U0001f3fd\u200d\U0001f4bb"  # 👩🏽‍💻


def marks_per_character(text: str) -> int:
    """The longest run of combining marks in ``text``."""
    longest = run = 0
    for ch in text:
        run = run + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        longest = max(longest, run)
    return longest


# -- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Alice (alice)   ", "Alice (alice)"),
        ("  Alice \t\n  (alice)  ", "Alice (alice)"),
        ("Al\u200bice\u2060 (ali\ufeffce)", "Alice (alice)"),
        ("\u202eecila\u202c (alice)", "ecila (alice)"),
        ("Alice\u3164\u3164\u3164(alice)", "Alice(alice)"),  # Hangul fillers draw nothing
        ("Alice\u00a0\u2003\u3000(alice)", "Alice (alice)"),  # wide and no-break spaces
        ("\u200b\u200d\u2060", ""),
        ("Ren\u00e9e", "Ren\u00e9e"),
        ("Rene\u0301e", "Ren\u00e9e"),  # e + combining acute is é (NFC)
        ("Nguy\u1ec5n", "Nguy\u1ec5n"),
        ("Zoë " + FAMILY, "Zoë \U0001f468\U0001f469\U0001f467"),  # names drop joiners
    ],
)
def test_names_lose_invisible_characters_and_extra_spaces(name: str, shown: str) -> None:
    assert safe_name(name) == shown


def test_a_zalgo_name_keeps_two_marks_per_letter() -> None:
    shown = safe_name("M" + ZALGO + "allory")
    assert shown.startswith("Mz") and shown.endswith("allory")
    assert marks_per_character(shown) == MAX_NAME_MARKS == 2
    assert len(shown) == len("Mzallory") + 2


# -- bodies ---------------------------------------------------------------------------


def test_bodies_lose_zero_width_runs_and_bidi_controls() -> None:
    body = "pay\u200b\u200b\u200bpal.com " + BIDI + "end\ufeff \u2060\u2061x"
    assert safe_body(body) == "paypal.com end x"
    assert not any(ch in safe_body(body) for ch in ZERO_WIDTH + BIDI)


@pytest.mark.parametrize(
    "body",
    [
        FAMILY,
        RAINBOW_FLAG,
        CODER,
        "\u2764\ufe0f\u200d\U0001f525",  # ❤️‍🔥
        "Rene\u0301e",  # a combining mark stays as sent
        "ti\u1ebfng Vi\u00ea\u0323t",
        "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd",  # pointed Hebrew
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: a ZWNJ inside a word
        "\u0915\u094d\u200d\u0937",  # Devanagari: a ZWJ between letters
        "1\ufe0f\u20e3",  # keycap
    ],
)
def test_bodies_keep_emoji_sequences_and_real_combining_marks(body: str) -> None:
    assert safe_body(body) == body


def test_a_run_of_joiners_is_one_at_most() -> None:
    assert safe_body("\U0001f468" + "\u200d" * 500 + "\U0001f469") == "\U0001f468\u200d\U0001f469"
    assert safe_body("a" + "\u200c" * 500 + "b") == "a\u200cb"
    assert safe_body("\u200d" * 500) == ""
    assert safe_body("x \u200d\u200c y") == "x  y"  # joins nothing


def test_a_zalgo_body_keeps_four_marks_per_character() -> None:
    shown = safe_body("hi " + ZALGO * 50 + " there")
    assert shown.startswith("hi z") and shown.endswith(" there")
    assert marks_per_character(shown) == MAX_BODY_MARKS == 4
    assert len(shown) == len("hi  there") + 50 * 5


# -- properties -----------------------------------------------------------------------

OTHERS = ["\u0301", "\u0300", "\u20e3", "\ufe0f", "\u3164", " ", "\t", "\n", "\x1b", "("]
LETTERS = ["a", "e", "\u05e9", "\u0915", "\U0001f468", "\U0001f3fd", "\U0001f308"]
hostile_piece = st.sampled_from([*ZERO_WIDTH, *BIDI, *OTHERS, *LETTERS])
texts = st.one_of(st.text(max_size=60), st.lists(hostile_piece, max_size=60).map("".join))


@settings(max_examples=400, deadline=None)
@given(texts)
def test_safe_body_is_idempotent_and_leaves_no_zero_width_run(text: str) -> None:
    shown = safe_body(text)
    assert safe_body(shown) == shown
    assert display_safe(shown) == shown
    assert marks_per_character(shown) <= MAX_BODY_MARKS
    assert not any(ch in shown for ch in "\u200b\u2060\u2061\u2062\u2063\u2064\ufeff" + BIDI)
    assert "\u200d\u200d" not in shown and "\u200c\u200c" not in shown


@settings(max_examples=400, deadline=None)
@given(texts)
def test_safe_name_is_idempotent_one_line_and_visible(text: str) -> None:
    shown = safe_name(text)
    assert safe_name(shown) == shown
    assert shown == shown.strip() and "  " not in shown and "\n" not in shown
    assert marks_per_character(shown) <= MAX_NAME_MARKS
    assert not any(unicodedata.category(ch) == "Cf" for ch in shown)
    assert display_safe(shown) == shown
