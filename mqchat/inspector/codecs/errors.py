"""The one error the codecs raise."""

from __future__ import annotations

__all__ = ["CodecError"]


class CodecError(ValueError):
    """A payload that is not in the format asked for; the message is one line that
    says why (``not CBOR: bytes left over after one data item``)."""
