"""What ``mqchat probe`` found out about a broker, as plain data: one finding per
capability (what was measured, what an MQTT 5 CONNACK said, a short note), and its
two renderings, a table for people and one JSON object for scripts.

Pure: the measuring is ``mqtt/probe.py``'s; this module only holds and shows the
result, so the rendering is tested without a broker."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

from mqchat.core.text import display_safe

__all__ = ["Finding", "ProbeReport", "Value", "report_object", "report_table", "shown"]

_VALUE_WIDTH = 24
_NOTE_WIDTH = 30

Value = bool | int | str | list[str] | None
"""A finding's value: ``None`` means it could not be decided (the note says why)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One capability of the broker."""

    key: str
    """Stable name for scripts (``max_qos``, ``retain``…)."""
    label: str
    """The table's name for it."""
    value: Value
    """What was measured; ``None``: unknown."""
    note: str = ""
    """Why, or what was seen, in a few words."""
    said: Value = None
    """What the broker's MQTT 5 CONNACK says about it; ``None``: nothing (3.1.1, or
    not a CONNACK property)."""
    text: str | None = None
    """How the value reads in the table, when not :func:`shown`'s default."""


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """Everything one probe found, in the order of the table."""

    broker: str
    """Where: the broker's label (no credentials)."""
    protocol: str
    """The MQTT version the probe spoke: ``5`` or ``3.1.1``."""
    findings: tuple[Finding, ...]
    elapsed: float
    """Seconds the whole probe took."""
    problems: tuple[str, ...] = field(default=())
    """Trouble that did not stop the probe (a retained message not cleared…)."""

    def get(self, key: str) -> Finding:
        """The finding named ``key``; ``KeyError`` if there is none."""
        for finding in self.findings:
            if finding.key == key:
                return finding
        raise KeyError(key)


def shown(value: Value) -> str:
    """A value as the table shows it: yes/no, unknown, numbers, lists joined."""
    if value is None:
        return "unknown"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    return str(value)


def report_object(report: ProbeReport) -> dict[str, object]:
    """The report as one JSON-ready object: each capability by key, with its value
    (``null``: unknown), what the CONNACK said (``null``: nothing) and the note."""
    return {
        "broker": report.broker,
        "protocol": report.protocol,
        "elapsed_s": round(report.elapsed, 3),
        "capabilities": {
            f.key: {"value": f.value, "said": f.said, "note": f.note} for f in report.findings
        },
        "problems": list(report.problems),
    }


def report_table(report: ProbeReport, *, width: int = 100) -> list[str]:
    """The report as lines: a heading, then one row per capability (name, value,
    note); where an MQTT 5 CONNACK said something the note starts with it. A long
    note wraps under itself. Text from the broker is shown literally (control
    characters removed)."""
    rows = [(f.label, _one_line(f.text or shown(f.value)), _note(f)) for f in report.findings]
    name_w = max(len("CAPABILITY"), *(len(r[0]) for r in rows))
    value_w = min(_VALUE_WIDTH, max(len("VALUE"), *(len(r[1]) for r in rows)))
    lines = [
        f"{_one_line(report.broker)}: MQTT {report.protocol}, probed in {report.elapsed:.2f} s",
        f"{'CAPABILITY':<{name_w}}  {'VALUE':<{value_w}}  NOTE",
    ]
    note_w = max(_NOTE_WIDTH, width - name_w - value_w - 5)
    indent = " " * (name_w + value_w + 4)
    for label, value, note in rows:
        wrapped = textwrap.wrap(note, note_w, break_on_hyphens=False) or [""]
        head = f"{label:<{name_w}}  {_cut(value, value_w):<{value_w}}  {wrapped[0]}"
        lines.append(head.rstrip())
        lines.extend(indent + more for more in wrapped[1:])
    lines.extend(f"warning: {_one_line(p)}" for p in report.problems)
    return lines


def _note(finding: Finding) -> str:
    parts: Sequence[str] = [finding.note] if finding.note else []
    if finding.said is not None:
        parts = [f"CONNACK says {shown(finding.said)}", *parts]
    return _one_line("; ".join(parts))


def _one_line(text: str) -> str:
    return display_safe(text).replace("\n", " ")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
