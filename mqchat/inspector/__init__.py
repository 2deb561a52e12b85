"""The inspector's model (docs/architecture.md#inspector): what was captured, the topic tree, payload
formatting, topic filters, the msg/s meter and export. Pure Python: no I/O and no
framework imports, so the service feeds it and the UI reads it."""
