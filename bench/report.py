"""Results: the goals of issue 7, one JSON file per bench run, and the printed table."""

from __future__ import annotations

import json
import operator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
KEEP = 5
"""How many result files stay in bench/results (the newest)."""

GOALS = (
    ("full load vs per-record PATCH", "vs_per_record", ">=", 20.0),
    ("full load vs $batch of 10", "vs_batch10", ">=", 3.0),
    ("project time / wire-limit time", "vs_wire_limit", "<=", 2.0),
    ("incremental time / full time", "incremental_fraction", "<=", 0.05),
    ("incremental requests / full requests", "incremental_requests_fraction", "<=", 0.05),
    ("peak RSS at 10N / at N", "rss_growth", "<=", 1.5),
    ("peak RSS at 10N (MB)", "rss_mb_10n", "<", 500.0),
    ("mapping engine records/s", "mapping_rps", ">=", 200_000.0),
)
COMPARE = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with the measured value and whether it is met (None when not measured)."""
    checked = []
    for title, name, op, target in GOALS:
        value = result.get(name)
        met = None if value is None else COMPARE[op](value, target)
        checked.append({"goal": title, "metric": name, "target": f"{op} {target:g}", "value": value, "met": met})
    return checked


def write(result: dict[str, Any], directory: Path = RESULTS_DIR, keep: int = KEEP) -> Path:
    """Write `<UTC timestamp>.json` and remove all but the newest `keep` results."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for old in sorted(directory.glob("*.json"))[:-keep]:
        old.unlink()
    return path


def table(result: dict[str, Any]) -> str:
    """The figures and the goals as plain text."""
    lines = [f"records: {result['records']:,}   machine: {result['machine']['cores']} cores, "
             f"{result['machine']['cpu_model']}, Python {result['machine']['python']}", ""]
    rows = [("contender", "seconds", "records/s", "requests", "429s", "first project run is")]
    for contender in result["contenders"]:
        ratio = contender.get("project_speedup")
        rows.append((contender["name"], f"{contender['seconds']:.2f}", f"{contender['rps']:,.0f}",
                     f"{contender['requests']:,}", f"{contender['throttled']:,}",
                     "-" if ratio is None else f"{ratio:.2f}x faster"))
    lines += _columns(rows)
    phases = (result.get("project_run") or {}).get("phases")
    if phases:
        lines.append("first project run, span of each step: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    lines.append("")
    for suffix, records in (("", result["records"]), ("_10n", result["records"] * 10)):
        inc = result.get("incremental" + suffix)
        if inc:
            lines.append(f"incremental, {inc['changed']:,} of {records:,} changed: {inc['seconds']:.2f} s, "
                         f"{inc['requests']} requests = {result['incremental_fraction' + suffix]:.1%} of the full "
                         f"run's time, {result['incremental_requests_fraction' + suffix]:.1%} of its requests")
    if result.get("project_10n_s") is not None:
        lines.append(f"full run of {result['records'] * 10:,}: {result['project_10n_s']:.2f} s "
                     f"({result['project_10n_rps']:,} records/s)")
    if result.get("rss_mb_10n") is not None:
        lines.append(f"devhost peak RSS: {result['rss_mb_n']:.0f} MB at {result['records']:,}, "
                     f"{result['rss_mb_10n']:.0f} MB at {result['records'] * 10:,} (x{result['rss_growth']:.2f})")
    if result.get("mapping_rps") is not None:
        lines.append(f"mapping engine: {result['mapping_rps']:,} records/s on one core")
    lines += ["", *_columns([("goal", "target", "measured", "")] + [
        (g["goal"], g["target"], "-" if g["value"] is None else f"{g['value']:,.3g}",
         "" if g["met"] is None else "met" if g["met"] else "MISSED") for g in result["goals"]
    ])]
    return "\n".join(lines)


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * width for width in widths))
    return out
