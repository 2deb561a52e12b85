"""The inspector (docs/architecture.md#inspector): the contract the screen knows
(backend.py), the feed that fills it from the broker on a thread of its own (feed.py),
and the pure model of what was captured (capture, topic tree, payload views, msg/s
meter, export, the filtered view, sealed chat envelopes opened through a callable the
chat lends: sealed.py), tested without a broker or a terminal."""
