"""The key map: one target id per source id, whoever asks and however often."""

from __future__ import annotations

import threading

from shared.store.key_maps import derived_id
from tests.shared.store.awkward import AWKWARD


def test_resolve_records_each_pair_once_and_gives_the_same_id_again(store) -> None:
    ids = [f"src-{n}" for n in range(250)] + list(AWKWARD)
    first = store.key_maps.resolve("p", "Accounts", "sourceToCds", ids)
    assert set(first) == set(ids)
    assert first["src-7"] == derived_id("p", "Accounts", "sourceToCds", "src-7")
    assert store.key_maps.resolve("p", "Accounts", "sourceToCds", ids) == first
    assert store.key_maps.count("p", "Accounts", "sourceToCds") == len(set(ids))
    assert store.key_maps.resolve("p", "Accounts", "cdsToDestination", ["src-7"])["src-7"] != first["src-7"]


def test_racing_resolvers_agree(store) -> None:
    ids = [f"race-{n}" for n in range(150)]
    answers: list[dict[str, str]] = []
    barrier = threading.Barrier(4)

    def resolve() -> None:
        barrier.wait()
        answers.append(store.key_maps.resolve("p", "T", "sourceToCds", ids))

    threads = [threading.Thread(target=resolve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and all(a == answers[0] for a in answers)
    assert store.key_maps.count("p", "T", "sourceToCds") == 150


def test_the_longest_task_names_and_business_keys_fit_and_stay_apart(store) -> None:
    task = "🚀" * 128
    ids = ["x" * 900, "x" * 899, "表" * 300, "表" * 299 + "衣", "a/b#c?d\\e" * 100]
    found = store.key_maps.resolve("p", task, "sourceToCds", ids)
    assert found == {s: derived_id("p", task, "sourceToCds", s) for s in ids}
    assert len(set(found.values())) == len(ids)
    assert store.key_maps.resolve("p", task, "sourceToCds", ids) == found
    assert store.key_maps.count("p", task, "sourceToCds") == len(ids)
    assert store.key_maps.count("p", task[:-1], "sourceToCds") == 0
