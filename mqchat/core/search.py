"""How a search of the history matches, as one rule every backend follows.

The user's text is only ever words, never a query language: it is cut into words
(runs of letters and digits; everything else, quotes, ``*``, ``-``, brackets,
separates them), and a message matches when **every** word of the search starts a
word of the message, in any order, ignoring case and accents. So ``pizz fri`` finds
"Pizza on Friday?", ``cafe`` finds "café", and ``"NEAR(x`` is the words ``NEAR``
and ``x``. Only the first :data:`MAX_SEARCH_WORDS` words count. A text without any
word (``"*"``, ``--``) matches nothing.

The store runs this rule as an SQLite FTS5 query (its ``unicode61`` tokenizer with
``remove_diacritics 2`` draws the same word boundaries); :func:`body_matches` is
the same rule in plain Python, for in-memory backends."""

from __future__ import annotations

import unicodedata

__all__ = ["MAX_SEARCH_WORDS", "body_matches", "fold", "search_words"]

MAX_SEARCH_WORDS = 16
"""Words of a search text that count; more narrow a search too little to be worth
the query they would make."""

_WORD_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Co"})
"""What SQLite's ``unicode61`` tokenizer takes as word characters ("L* N* Co")."""


def _words(text: str, most: int | None = None) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if unicodedata.category(char) in _WORD_CATEGORIES:
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
            if len(words) == most:  # a pasted book is not read to the end
                return words
    if current:
        words.append("".join(current))
    return words


def search_words(text: str) -> list[str]:
    """The words of a search text, in order, at most :data:`MAX_SEARCH_WORDS`,
    each only letters and digits (so safe to quote in any query syntax)."""
    return _words(text, MAX_SEARCH_WORDS)[:MAX_SEARCH_WORDS]


def fold(word: str) -> str:
    """``word`` without case or accents, as the tokenizer compares words."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def body_matches(words: list[str], body: str) -> bool:
    """Whether a message ``body`` matches the search ``words``
    (:func:`search_words`): each starts a word of the body. No words: no match."""
    if not words:
        return False
    body_words = [fold(w) for w in _words(body)]
    return all(any(b.startswith(fold(w)) for b in body_words) for w in words)
