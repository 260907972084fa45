"""The bench's result: the goals are judged on strict devhost's figures, the lenient ones stand beside them;
issue 15's goals on the scale scenario's two sizes, with 10,000,000 records only as a labelled projection."""

from __future__ import annotations

from typing import Any

from bench import report
from bench.scale import project_to


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


def size(records: int, seconds: float, history: int, rss: dict[str, float], incremental_s: float) -> dict[str, Any]:
    return {"records": records, "seconds": seconds, "rps": round(records / seconds), "source_pages": records // 5000,
            "instances": 6, "executions": 9, "largest_history": history, "largest_history_instance": "x",
            "history_samples": 10, "phases": {"extract_chunk": seconds / 4, "load_page": seconds / 2},
            "incremental": {"changed": records // 100, "seconds": incremental_s, "written": records // 100,
                            "instances": 4, "largest_history": 30},
            "incremental_fraction": round(incremental_s / seconds, 4), "peak_rss_mb": rss}


def scaled(history_at_scale: int, rss_at_scale: dict[str, float], seconds_at_scale: float) -> dict[str, Any]:
    small = size(20_000, 4.0, 100, {"devhost": 120.0, "devhost worker 1": 200.0, "azurite": 130.0}, 0.5)
    large = size(1_000_000, seconds_at_scale, history_at_scale, rss_at_scale, seconds_at_scale * 0.02)
    return {**result(), "scale": {"records": 1_000_000, "n": small, "scale": large,
                                  "projection": project_to(10_000_000, small, large)}}


def verdicts(figures: dict[str, Any]) -> dict[str, tuple[Any, bool | None]]:
    return {goal["metric"]: (goal["value"], goal["met"]) for goal in figures["goals"]
            if goal["metric"].startswith("scale_")}


def test_a_bounded_history_flat_memory_and_steady_throughput_meet_the_scale_goals():
    figures = scaled(112, {"devhost": 130.0, "devhost worker 1": 290.0, "azurite": 150.0}, 190.0)
    report.derive(figures)
    assert verdicts(figures) == {
        "scale_history_growth": (1.12, True), "scale_rps_ratio": (1.05, True), "scale_rss_growth": (1.45, True),
        "scale_rss_mb": (290.0, True), "scale_incremental_fraction": (0.02, True),
    }
    scale = figures["scale"]
    assert scale["scale_rss_growth_process"] == "devhost worker 1" == scale["scale_rss_mb_process"]
    scale_goals = [goal for goal in figures["goals"] if goal["metric"].startswith("scale_")]
    assert all(goal["by_devhost"] == {"strict": goal["value"]} for goal in scale_goals)
    assert [goal["metric"] for goal in figures["goals"]][:8] == [metric for _, metric, _, _ in report.GOALS]


def test_a_growing_history_a_growing_process_and_slower_records_miss_the_scale_goals():
    figures = scaled(5_000, {"devhost": 130.0, "devhost worker 1": 620.0, "azurite": 150.0}, 300.0)
    report.derive(figures)
    assert verdicts(figures) == {
        "scale_history_growth": (50.0, False), "scale_rps_ratio": (0.67, False), "scale_rss_growth": (3.1, False),
        "scale_rss_mb": (620.0, False), "scale_incremental_fraction": (0.02, True),
    }


def test_a_process_that_grows_only_past_the_ratio_is_named_and_the_largest_is_judged_on_its_own():
    figures = scaled(100, {"devhost": 190.0, "devhost worker 1": 210.0, "azurite": 140.0}, 200.0)
    report.derive(figures)
    scale = figures["scale"]
    assert (scale["scale_rss_growth"], scale["scale_rss_growth_process"]) == (1.58, "devhost")
    assert (scale["scale_rss_mb"], scale["scale_rss_mb_process"]) == (210.0, "devhost worker 1")
    assert verdicts(figures)["scale_rss_growth"] == (1.58, False)
    assert verdicts(figures)["scale_rss_mb"] == (210.0, True)


def test_the_ten_million_figure_is_a_projection_from_the_per_page_cost_and_says_so():
    figures = scaled(100, {"devhost": 130.0}, 250.0)
    projection = figures["scale"]["projection"]
    assert projection["seconds_per_page"] == {"n": 1.0, "scale": 1.25}
    assert projection["source_pages"] == 2_000
    assert (projection["seconds"], projection["rps"]) == (2_500.0, 4_000)
    assert projection["seconds_if_per_page_grows"] == round((1.25 + 0.25 / 980_000 * 9_000_000) * 2_000, 1)
    assert projection["largest_history"] == 100
    assert projection["step_seconds_per_page"] == {"extract_chunk": 0.3125, "load_page": 0.625}
    assert "projection, not a measurement" in projection["method"]
    report.derive(figures)
    text = report.table(figures)
    assert "10,000,000 (projection)" in text
    assert "10,000,000: projection, not a measurement" in text
    assert "peak RSS: largest 130 MB (devhost), most grown x1.08 (devhost)" in text
    history_row = next(line for line in text.splitlines() if line.startswith("largest history (events)"))
    assert history_row.split()[-3:] == ["100", "100", "100"]
    rss_row = next(line for line in text.splitlines() if line.startswith("peak RSS devhost (MB)"))
    assert rss_row.split()[-3:] == ["120", "130", "-"]
    goal_row = next(line for line in text.splitlines() if line.startswith("largest history at SCALE / at N"))
    assert goal_row.split()[-4:] == ["1.2", "1", "-", "met"]


def test_a_result_without_the_scale_scenario_has_only_the_benchmark_goals():
    figures = result()
    report.derive(figures)
    assert [goal["metric"] for goal in figures["goals"]] == [metric for _, metric, _, _ in report.GOALS]
    assert "(projection)" not in report.table(figures)


def two_way_run(seconds: float, requests: tuple[int, int], read: int, written: int) -> dict[str, Any]:
    legs = {leg: {"read": read // 2, "written": written, "skipped": read // 2 - written, "failed": 0, "conflicts": 0}
            for leg in ("sourceToCds", "cdsToSource")}
    return {"seconds": seconds, "sales_requests": requests[0], "cds_requests": requests[1], "records_read": read,
            "legs": legs}


def test_the_two_way_scenario_is_judged_on_time_and_records_read_and_shows_its_requests():
    full, incremental = two_way_run(50.0, (30, 34), 200_000, 1_000), two_way_run(2.0, (24, 26), 4_000, 1_000)
    figures = {**result(), "twoway": {
        "records": 100_000, "edited": {"sales": 1_000, "cds": 1_000}, "link": two_way_run(45.0, (22, 22), 200_000, 0),
        "full": full, "incremental": incremental, "twoway_incremental_fraction": 0.04,
        "twoway_incremental_read_fraction": 0.02, "twoway_incremental_requests_fraction": 0.78125}}
    report.derive(figures)
    judged = {goal["metric"]: (goal["value"], goal["met"], goal["by_devhost"]) for goal in figures["goals"]
              if goal["metric"].startswith("twoway_")}
    assert judged == {"twoway_incremental_fraction": (0.04, True, {"strict": 0.04}),
                      "twoway_incremental_read_fraction": (0.02, True, {"strict": 0.02})}
    text = report.table(figures)
    assert "two-way, 100,000 accounts each side, strict devhost" in text
    assert next(line for line in text.splitlines() if line.startswith("requests to cds")).split()[-3:] == [
        "22", "34", "26"]
    assert "4.0% of the full run's time, 2.0% of its records read, 78.1% of its requests" in text


def test_writing_a_result_keeps_the_newest_and_those_the_readme_cites(tmp_path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    for day in range(1, 9):
        (results / f"202611{day:02d}T000000Z.json").write_text("{}")
    readme = tmp_path / "README.md"
    readme.write_text("figures in `bench/results/20261102T000000Z.json`\n")
    written = report.write(result(), results, keep=3, readme=readme)
    assert sorted(p.name for p in results.iterdir()) == [
        "20261102T000000Z.json", "20261107T000000Z.json", "20261108T000000Z.json", written.name]
