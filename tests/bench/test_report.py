"""The bench's result: the goals are judged on strict devhost's figures, the lenient ones stand beside them."""

from __future__ import annotations

from typing import Any

from bench import report


def result() -> dict[str, Any]:
    def project(seconds: float) -> dict[str, Any]:
        return {"project_s": seconds, "project_rps": round(20_000 / seconds), "rss_mb_n": 200.0, "rss_mb_10n": 260.0}

    return {
        "schema": report.SCHEMA, "records": 20_000, "judged_on": report.JUDGED_MODE,
        "machine": {"cores": 2, "cpu_model": "test", "python": "3.11"},
        "mapping_rps": 250_000, "per_record_rps": 200, "batch10_rps": 2_000, "wire_limit_s": 1.0,
        "contenders": [
            {"name": "project, first run", "devhost": "strict", "seconds": 2.5, "rps": 8_000, "requests": 84,
             "throttled": 0},
            {"name": "project, first run", "devhost": "lenient", "seconds": 1.6, "rps": 12_500, "requests": 84,
             "throttled": 0},
            {"name": "per-record PATCH x10", "seconds": 100.0, "rps": 200, "requests": 20_000, "throttled": 9,
             "connection_retries": 2},
        ],
        "devhost": {"strict": project(2.5), "lenient": project(1.6)},
    }


def test_goals_are_judged_on_strict_with_the_lenient_figures_beside():
    figures = result()
    report.derive(figures)
    wire = next(goal for goal in figures["goals"] if goal["metric"] == "vs_wire_limit")
    assert wire["value"] == 2.5 and wire["met"] is False
    assert wire["by_devhost"] == {"strict": 2.5, "lenient": 1.6}
    assert figures["devhost"]["lenient"]["goals"][2]["met"] is True
    mapping = next(goal for goal in figures["goals"] if goal["metric"] == "mapping_rps")
    assert mapping["by_devhost"] == {"strict": 250_000, "lenient": 250_000} and mapping["met"] is True
    per_record = figures["contenders"][2]
    assert per_record["project_speedup"] == {"strict": 40.0, "lenient": 62.5}
    assert figures["devhost"]["strict"]["vs_per_record"] == 40.0


def test_the_table_shows_both_modes_and_the_judged_verdict():
    figures = result()
    report.derive(figures)
    text = report.table(figures)
    assert "goals judged on: strict devhost" in text
    assert "strict devhost:" in text and "lenient devhost:" in text
    wire_line = next(line for line in text.splitlines() if line.startswith("project time / wire-limit time"))
    assert wire_line.split()[-3:] == ["2.5", "1.6", "MISSED"]
    assert "40.00x faster (strict), 62.50x faster (lenient)" in text
