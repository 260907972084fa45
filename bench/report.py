"""Results: the goals of issues 7, 15 and 18, one JSON file per bench run, and the printed table.

A result file (schema 4) holds:

    schema, records, started, machine, target_knobs, source_knobs
    judged_on           the devhost mode whose figures the goals are judged on: "strict"
    mapping_rps         the mapping engine alone
    per_record_rps, batch10_rps, wire_limit_s, wire_limit_rps, wire_limit_client, wire_limit_tried
                        the reference clients and the wire limit (no devhost involved)
    contenders          one row each: name, seconds, rps, requests, throttled; a project row adds
                        `devhost` (its mode), a client row `connection_retries` and `project_speedup`
                        (the first project run's records/s over the client's, per mode)
    devhost.<mode>      the project's figures on a devhost in that mode: project_s, project_rps,
                        project_run, project_warm_s, project_warm_rps, rss_mb_n, incremental[_10n],
                        incremental_fraction[_10n], incremental_requests_fraction[_10n], rss_mb_10n,
                        project_10n_s, project_10n_rps, the ratios vs_per_record, vs_batch10,
                        vs_wire_limit, rss_growth, and the goals judged on them
    scale               (issue 15, strict devhost only) records (SCALE_RECORDS); `n` and `scale`: one
                        size each on fresh processes: records, seconds, rps, source_pages, instances,
                        executions, largest_history[_instance], history_samples, phases, incremental
                        {changed, seconds, written, instances, largest_history}, incremental_fraction,
                        peak_rss_mb {process name: MiB}; `projection` to 10,000,000 records (method,
                        seconds_per_page, step_seconds_per_page, source_pages, seconds, rps,
                        seconds_if_per_page_grows, largest_history); the
                        ratios scale_history_growth, scale_rps_ratio, scale_rss_growth (and
                        scale_rss_growth_process), scale_rss_mb (and scale_rss_mb_process),
                        scale_incremental_fraction
    twoway              (issue 18, strict devhost only) records (accounts on each side), edited {sales,
                        cds} (per round); `link`, `full`, `incremental`: one run each: seconds,
                        sales_requests, cds_requests, records_read, legs {sourceToCds, cdsToSource:
                        read, written, skipped, failed, conflicts}; the ratios of the incremental run
                        to the full one: twoway_incremental_fraction (time),
                        twoway_incremental_read_fraction, twoway_incremental_requests_fraction
    goals               the goals judged on `judged_on`'s figures, each with `by_devhost`: the value
                        in every mode measured (the scale and two-way goals: strict only)

Schema 3 had no `twoway`; schema 2 had no `scale`; schema 1 had one devhost's project figures,
ratios and goals at the top level.
"""

from __future__ import annotations

import json
import operator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent.parent / "README.md"
KEEP = 5
"""How many result files stay in bench/results (the newest), besides those the README cites."""
SCHEMA = 4
DEVHOST_MODES = ("strict", "lenient")
"""devhost as strict as Azure (its default), and with `--lenient`."""
JUDGED_MODE = "strict"

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
SCALE_GOALS = (
    ("largest history at SCALE / at N", "scale_history_growth", "<=", 1.2),
    ("records/s at SCALE / at N", "scale_rps_ratio", ">=", 0.9),
    ("peak RSS at SCALE / at N, each process", "scale_rss_growth", "<=", 1.5),
    ("peak RSS at SCALE, each process (MB)", "scale_rss_mb", "<", 500.0),
    ("incremental (1% changed) / full at SCALE", "scale_incremental_fraction", "<=", 0.05),
)
"""Issue 15's goals, on the strict figures of the scale scenario; a process goal holds for the worst process."""
TWO_WAY_GOALS = (
    ("two-way incremental (1% each side) / full, time", "twoway_incremental_fraction", "<=", 0.05),
    ("two-way incremental / full, records read", "twoway_incremental_read_fraction", "<=", 0.05),
)
"""Issue 18's: a two-way run touches only the changed records (requests are reported, not judged: bench/twoway.py)."""
COMPARE = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


def goals(figures: dict[str, Any], table: tuple[tuple[str, str, str, float], ...] = GOALS) -> list[dict[str, Any]]:
    """Each goal of `table` with the measured value and whether it is met (None when not measured)."""
    checked = []
    for title, name, op, target in table:
        value = figures.get(name)
        met = None if value is None else COMPARE[op](value, target)
        checked.append({"goal": title, "metric": name, "target": f"{op} {target:g}", "value": value, "met": met})
    return checked


def derive(result: dict[str, Any]) -> None:
    """Add the ratios and goals of every devhost mode, the clients' speedups and the judged goals."""
    for figures in result["devhost"].values():
        _ratios(result, figures)
        figures["goals"] = goals({**result, **figures})
    for row in result["contenders"]:
        if "devhost" not in row:
            row["project_speedup"] = {
                mode: round(figures["project_rps"] / row["rps"], 2)
                for mode, figures in result["devhost"].items() if figures.get("project_rps") and row["rps"]
            }
    judged = goals({**result, **result["devhost"].get(result["judged_on"], {})})
    for goal in judged:
        goal["by_devhost"] = {mode: figures.get(goal["metric"], result.get(goal["metric"]))
                              for mode, figures in result["devhost"].items()}
    scale = result.get("scale")
    if scale is not None:
        _scale_ratios(scale)
        judged += _strict_goals(scale, SCALE_GOALS)
    if result.get("twoway") is not None:
        judged += _strict_goals(result["twoway"], TWO_WAY_GOALS)
    result["goals"] = judged


def _strict_goals(figures: dict[str, Any], table: tuple[tuple[str, str, str, float], ...]) -> list[dict[str, Any]]:
    """The goals of a scenario measured on strict devhost only."""
    checked = goals(figures, table)
    for goal in checked:
        goal["by_devhost"] = {JUDGED_MODE: goal["value"]}
    return checked


def _ratios(result: dict[str, Any], figures: dict[str, Any]) -> None:
    rps = figures.get("project_rps")
    for name in ("per_record", "batch10"):
        if rps and result.get(f"{name}_rps"):
            figures[f"vs_{name}"] = round(rps / result[f"{name}_rps"], 2)
    if result.get("wire_limit_s") and figures.get("project_s"):
        figures["vs_wire_limit"] = round(figures["project_s"] / result["wire_limit_s"], 2)
    if figures.get("rss_mb_10n") and figures.get("rss_mb_n"):
        figures["rss_growth"] = round(figures["rss_mb_10n"] / figures["rss_mb_n"], 2)


def _scale_ratios(scale: dict[str, Any]) -> None:
    """Issue 15's ratios of the SCALE size against N; the process goals take the worst process."""
    small, large = scale["n"], scale["scale"]
    if small["largest_history"]:
        scale["scale_history_growth"] = round(large["largest_history"] / small["largest_history"], 2)
    if small["rps"]:
        scale["scale_rps_ratio"] = round(large["rps"] / small["rps"], 2)
    growth = {name: round(mb / small["peak_rss_mb"][name], 2)
              for name, mb in large["peak_rss_mb"].items() if small["peak_rss_mb"].get(name)}
    if growth:
        worst = max(growth, key=lambda name: growth[name])
        scale.update(scale_rss_growth=growth[worst], scale_rss_growth_process=worst)
    if large["peak_rss_mb"]:
        largest = max(large["peak_rss_mb"], key=lambda name: large["peak_rss_mb"][name])
        scale.update(scale_rss_mb=large["peak_rss_mb"][largest], scale_rss_mb_process=largest)
    scale["scale_incremental_fraction"] = large["incremental_fraction"]


def write(result: dict[str, Any], directory: Path = RESULTS_DIR, keep: int = KEEP, readme: Path = README) -> Path:
    """Write `<UTC timestamp>.json` and remove all but the newest `keep` results and those `readme` cites."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    cited = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    for old in sorted(directory.glob("*.json"))[:-keep]:
        if old.name not in cited:
            old.unlink()
    return path


def table(result: dict[str, Any]) -> str:
    """The figures and the goals as plain text, the strict and lenient project figures side by side."""
    machine = result["machine"]
    lines = [f"records: {result['records']:,}   machine: {machine['cores']} cores, {machine['cpu_model']}, "
             f"Python {machine['python']}   goals judged on: {result['judged_on']} devhost", ""]
    modes = list(result["devhost"])
    rows = [("contender", "devhost", "seconds", "records/s", "requests", "429s", "conn. retries",
             "first project run is")]
    projects = sorted((row for row in result["contenders"] if "devhost" in row),
                      key=lambda row: modes.index(row["devhost"]))
    for row in projects + [row for row in result["contenders"] if "devhost" not in row]:
        speedups = row.get("project_speedup") or {}
        rows.append((row["name"], row.get("devhost", "-"), f"{row['seconds']:.2f}", f"{row['rps']:,.0f}",
                     f"{row['requests']:,}", f"{row['throttled']:,}",
                     f"{row['connection_retries']:,}" if "connection_retries" in row else "-",
                     ", ".join(f"{_speedup(x)} ({mode})" for mode, x in speedups.items()) or "-"))
    lines += _columns(rows)
    for mode in modes:
        lines += ["", f"{mode} devhost:", *_mode_lines(result, result["devhost"][mode])]
    if result.get("scale") is not None:
        lines += ["", *_scale_lines(result["scale"])]
    if result.get("twoway") is not None:
        lines += ["", *_twoway_lines(result["twoway"])]
    if result.get("mapping_rps") is not None:
        lines += ["", f"mapping engine: {result['mapping_rps']:,} records/s on one core"]
    judged = result["judged_on"]
    header = ("goal", "target", *(f"{mode}" + (" (judged)" if mode == judged else "") for mode in modes), "")
    goal_rows = [header]
    for goal in result["goals"]:
        values = [_value(goal["by_devhost"].get(mode)) for mode in modes]
        verdict = "" if goal["met"] is None else "met" if goal["met"] else "MISSED"
        goal_rows.append((goal["goal"], goal["target"], *values, verdict))
    lines += ["", *_columns(goal_rows)]
    return "\n".join(lines)


def _mode_lines(result: dict[str, Any], figures: dict[str, Any]) -> list[str]:
    lines = []
    phases = (figures.get("project_run") or {}).get("phases")
    if phases:
        lines.append("  first project run, span of each step: " +
                     ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    for suffix, records in (("", result["records"]), ("_10n", result["records"] * 10)):
        inc = figures.get("incremental" + suffix)
        if inc:
            lines.append(f"  incremental, {inc['changed']:,} of {records:,} changed: {inc['seconds']:.2f} s, "
                         f"{inc['requests']} requests = {figures['incremental_fraction' + suffix]:.1%} of the full "
                         f"run's time, {figures['incremental_requests_fraction' + suffix]:.1%} of its requests")
    if figures.get("project_10n_s") is not None:
        lines.append(f"  full run of {result['records'] * 10:,}: {figures['project_10n_s']:.2f} s "
                     f"({figures['project_10n_rps']:,} records/s)")
    if figures.get("rss_growth") is not None:
        lines.append(f"  devhost peak RSS: {figures['rss_mb_n']:.0f} MB at {result['records']:,}, "
                     f"{figures['rss_mb_10n']:.0f} MB at {result['records'] * 10:,} (x{figures['rss_growth']:.2f})")
    return lines


def _scale_lines(scale: dict[str, Any]) -> list[str]:
    """The two measured sizes and the projection side by side, one row per figure."""
    small, large, projected = scale["n"], scale["scale"], scale["projection"]
    header = ("scale, strict devhost, fresh processes per size", f"{small['records']:,}", f"{large['records']:,}",
              f"{projected['records']:,} (projection)")
    rows = [
        header,
        ("full run (s)", f"{small['seconds']:,.1f}", f"{large['seconds']:,.1f}", f"{projected['seconds']:,.0f}"),
        ("records/s", f"{small['rps']:,}", f"{large['rps']:,}", f"{projected['rps']:,}"),
        ("source pages read", f"{small['source_pages']:,}", f"{large['source_pages']:,}",
         f"{projected['source_pages']:,}"),
        ("orchestration instances (executions)", f"{small['instances']:,} ({small['executions']:,})",
         f"{large['instances']:,} ({large['executions']:,})", "-"),
        ("largest history (events)", f"{small['largest_history']:,}", f"{large['largest_history']:,}",
         f"{projected['largest_history']:,}"),
        ("incremental, 1% changed (s)", f"{small['incremental']['seconds']:,.2f}",
         f"{large['incremental']['seconds']:,.2f}", "-"),
        ("incremental / full", f"{small['incremental_fraction']:.1%}", f"{large['incremental_fraction']:.1%}", "-"),
    ]
    for name, mb in large["peak_rss_mb"].items():
        rows.append((f"peak RSS {name} (MB)", _mb(small["peak_rss_mb"].get(name)), _mb(mb), "-"))
    steps = ", ".join(f"{step} {seconds:.3f} s" for step, seconds in projected["step_seconds_per_page"].items())
    notes = [f"  per source page at {large['records']:,}: {projected['seconds_per_page']['scale']:.3f} s "
             f"({projected['seconds_per_page']['n']:.3f} s at {small['records']:,}); span per page of each step: "
             f"{steps}",
             f"  {projected['records']:,}: {projected['method']}; if the per-page cost kept growing as from "
             f"{small['records']:,} to {large['records']:,}: {projected['seconds_if_per_page_grows']:,.0f} s"]
    if scale.get("scale_rss_growth_process"):
        notes.append(f"  peak RSS: largest {scale['scale_rss_mb']:,.0f} MB ({scale['scale_rss_mb_process']}), "
                     f"most grown x{scale['scale_rss_growth']:.2f} ({scale['scale_rss_growth_process']})")
    return [*_columns(rows), *notes]


def _twoway_lines(twoway: dict[str, Any]) -> list[str]:
    """The two-way scenario's runs side by side, one row per figure."""
    runs = ("link", "full", "incremental")
    rows = [(f"two-way, {twoway['records']:,} accounts each side, strict devhost", *runs)]
    rows.append(("seconds", *(f"{twoway[run]['seconds']:,.2f}" for run in runs)))
    for side in ("sales", "cds"):
        rows.append((f"requests to {side}", *(f"{twoway[run][f'{side}_requests']:,}" for run in runs)))
    rows.append(("records read (both sides)", *(f"{twoway[run]['records_read']:,}" for run in runs)))
    for leg in ("sourceToCds", "cdsToSource"):
        rows.append((f"written {leg}", *(f"{twoway[run]['legs'][leg]['written']:,}" for run in runs)))
    edited = twoway["edited"]
    note = (f"  {edited['sales']:,} accounts edited in Sales and {edited['cds']:,} in CDS before the full run, as many "
            f"others before the incremental one: {twoway['twoway_incremental_fraction']:.1%} of the full run's time, "
            f"{twoway['twoway_incremental_read_fraction']:.1%} of its records read, "
            f"{twoway['twoway_incremental_requests_fraction']:.1%} of its requests")
    return [*_columns(rows), note]


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _speedup(ratio: float) -> str:
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3g}"


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * width for width in widths))
    return out
