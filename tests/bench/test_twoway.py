"""The two-way scenario measured on a real twin at a small size."""

from __future__ import annotations

from bench.twoway import measure

RECORDS = 1_000
EDITED = RECORDS // 100


def test_a_small_two_way_bench_links_then_merges_both_ways_and_reads_far_less_incrementally():
    figures = measure(RECORDS)
    assert figures["edited"] == {"sales": EDITED, "cds": EDITED}
    link, full, incremental = figures["link"], figures["full"], figures["incremental"]
    assert [link["legs"][leg]["written"] for leg in ("sourceToCds", "cdsToSource")] == [0, 0]
    assert [full["legs"][leg]["written"] for leg in ("sourceToCds", "cdsToSource")] == [EDITED, EDITED]
    assert full["records_read"] == 2 * RECORDS
    # each side's own edits, the echoes of the full run's writes, and the counterparts of both read by key
    assert 2 * EDITED <= incremental["records_read"] <= 8 * EDITED
    assert incremental["sales_requests"] > 0 and incremental["cds_requests"] > 0
    assert figures["twoway_incremental_read_fraction"] == round(incremental["records_read"] / full["records_read"], 4)
