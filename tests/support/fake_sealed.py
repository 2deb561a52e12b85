"""Sealed envelopes the fake backend knows how to open (its ``unseal``), for the
inspector's decrypted view: the bytes are made up, only the fake knows them."""

from __future__ import annotations

__all__ = ["SEALED_FOR_ALICE", "SEALED_FOR_CAROL", "SEALED_INNER"]

SEALED_INNER = (
    b'{"v":3,"id":"0193f1a0-0000-7000-8000-000000000001","type":"text","from":"bob",'
    b'"to":"alice","ts":"2026-11-22T14:04:00.000Z","body":"[bold red]meet at 5[/] \\u001b[2J"}'
)
"""The envelope inside :data:`SEALED_FOR_ALICE`: bob's text, with Rich markup and an
escape sequence that must be shown literally."""

SEALED_FOR_ALICE = (
    b'{"v":3,"id":"0193f1a0-0000-7000-8000-000000000001","type":"sealed","from":"bob",'
    b'"to":"alice","ts":"2026-11-22T14:04:00.000Z","sealed":{"v":1,"from":"b0b0b0b0b0b0",'
    b'"n":"q8PA9bYfT1h2kLmN","ct":"x9Rk2dQ0hT3nF6yWzB8pLc4vA1sE5gJ7uK0oI2mHqXc=",'
    b'"keys":[{"u":"alice","d":"a1b2c3d4e5f6","n":"Zm9vYmFyYmF6cXV4","k":"c2VjcmV0LWtleS13cmFwcGVkLWZvci1hbGljZQ=="}]}}'
)
"""A sealed envelope from bob that the fake's :meth:`FakeBackend.unseal` opens to
:data:`SEALED_INNER` (the bytes are made up; only the fake knows them)."""

SEALED_FOR_CAROL = SEALED_FOR_ALICE.replace(b'"to":"alice"', b'"to":"carol"').replace(
    b'"u":"alice","d":"a1b2c3d4e5f6"', b'"u":"carol","d":"c0c0c0c0c0c0"'
)
"""A sealed envelope between two others: the fake cannot open it."""
