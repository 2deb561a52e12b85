"""The report of a bench run: one JSON object (``--json``) and the same figures as
readable lines. Every rate is a count over the window named beside it
(:mod:`mqchat.core.bench`)."""

from __future__ import annotations

from typing import Any

from mqchat.core.bench import Tally, rate
from mqchat.core.text import display_safe
from mqchat.tools.bench import BenchRun, SubRun

__all__ = ["pub_report", "report_lines", "sub_report"]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def pub_report(r: BenchRun) -> dict[str, Any]:
    plan = r.plan
    sent = sum(r.complete)
    subscribers = []
    for name, tally in r.receivers:
        integrity = tally.integrity(r.run, r.complete)
        subscribers.append(
            {
                "name": name,
                "received": tally.received,
                "received_rate": _round(rate(tally.received, r.first_ns, tally.last_ns)),
                **integrity,
                "latency_ms": tally.latency_ms(),
            }
        )
    return {
        "run": r.run,
        "topic": f"{r.topic}/#",
        "qos": r.qos,
        "clients": plan.clients,
        "size": plan.size,
        "offered_rate": plan.rate,
        "attempted": sum(r.attempted),
        "sent": sent,
        "refused": sum(r.refused),
        "unconfirmed": sum(r.attempted) - sent - sum(r.refused),
        "publish_rate": _round(rate(sent, r.first_ns, r.last_complete_ns)),
        "subscribers": subscribers,
        "interrupted": r.interrupted,
        "lost_connection": r.lost_connection,
    }


def sub_report(s: SubRun) -> dict[str, Any]:
    tally: Tally = s.tally
    intervals = tally.received - 1
    runs = []
    for run in tally.runs():
        runs.append({"run": run, **tally.integrity(run)})
    return {
        "filters": list(s.plan.filters),
        "received": tally.received,
        "foreign": tally.foreign,
        "received_rate": _round(rate(intervals, tally.first_ns, tally.last_ns)),
        "seconds": round((s.ended_ns - s.started_ns) / 1e9, 3),
        "runs": runs,
        "interrupted": s.interrupted,
        "lost_connection": s.lost_connection,
    }


def _per_s(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} msg/s"


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report of :func:`pub_report` or :func:`sub_report` as lines of text."""
    lines: list[str] = []
    if "attempted" in report:
        offered = report["offered_rate"]
        lines += [
            f"run {report['run']}  topic {report['topic']}  QoS {report['qos']}  "
            f"{report['clients']} client(s)  {report['size']} B",
            f"offered rate    {'as fast as possible' if offered is None else _per_s(offered)}",
            f"published       {report['sent']:,} of {report['attempted']:,} "
            f"(refused {report['refused']:,}, unconfirmed {report['unconfirmed']:,})",
            f"publish rate    {_per_s(report['publish_rate'])}  (first publish to last completion)",
        ]
        for sub in report["subscribers"]:
            lines += [
                f"{sub['name']}:",
                f"  received      {sub['received']:,}  "
                f"{_per_s(sub['received_rate'])} (first publish to last receipt)",
                f"  integrity     lost {sub['lost']:,}  duplicated {sub['duplicated']:,}  "
                f"out of order {sub['out_of_order']:,}",
            ]
            latency = sub["latency_ms"]
            if latency is not None:
                lines.append(
                    "  latency ms    " + "  ".join(f"{k} {v:,.2f}" for k, v in latency.items())
                )
        if not report["subscribers"]:
            lines.append("not subscribed (--no-subscribe): nothing said of delivery")
    else:
        lines += [
            f"received        {report['received']:,} in {report['seconds']:,} s  "
            f"{_per_s(report['received_rate'])} (first to last receipt)",
            f"foreign         {report['foreign']:,} (not bench payloads)",
        ]
        for run in report["runs"]:
            lines.append(
                f"run {run['run']}  received {run['received']:,}  lost {run['lost']:,} "
                f"(gaps; a loss at the end cannot be seen)  duplicated {run['duplicated']:,}  "
                f"out of order {run['out_of_order']:,}"
            )
        if report["runs"]:
            lines.append("latency: not measured (the sender's clock is not this process's)")
    if report["interrupted"]:
        lines.append("interrupted: the figures are partial")
    if report["lost_connection"]:
        lines.append(
            f"connection lost: {display_safe(report['lost_connection'])}: the figures are partial"
        )
    return lines
