"""Sandbox servers for the sandbox tests: real processes on free ports, stopped by PID at the end.

Session-wide servers keep the run short; a test that writes uses the `dataverse` or `finops`
fixture, which empties the server and restores its knobs first.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.process import SandboxProcess, start_sandbox

DATASET_RECORDS = 400


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def dataverse_dataset() -> Iterator[SandboxProcess]:
    """A Dataverse sandbox with the prospect-to-cash data set: read only."""
    with start_sandbox("dataverse", dataset="prospect-to-cash", records=DATASET_RECORDS) as server:
        yield server


@pytest.fixture(scope="session")
def finops_dataset() -> Iterator[SandboxProcess]:
    """An F&O sandbox with the prospect-to-cash data set in two companies: read only."""
    with start_sandbox(
        "finops", dataset="prospect-to-cash", records=DATASET_RECORDS, companies=["usmf", "usrt"]
    ) as server:
        yield server


@pytest.fixture(scope="session")
def _dataverse_empty() -> Iterator[SandboxProcess]:
    with start_sandbox("dataverse") as server:
        yield server


@pytest.fixture(scope="session")
def _finops_empty() -> Iterator[SandboxProcess]:
    with start_sandbox("finops", companies=["usmf", "usrt"]) as server:
        yield server


def _fresh(server: SandboxProcess, http: requests.Session, defaults: dict) -> SandboxProcess:
    http.post(server.url + "/_sandbox/reset").raise_for_status()
    http.post(server.url + "/_sandbox/config", json=defaults).raise_for_status()
    return server


@pytest.fixture(scope="session")
def _dataverse_defaults(_dataverse_empty: SandboxProcess, http: requests.Session) -> dict:
    return http.get(_dataverse_empty.url + "/_sandbox/config").json()


@pytest.fixture(scope="session")
def _finops_defaults(_finops_empty: SandboxProcess, http: requests.Session) -> dict:
    return http.get(_finops_empty.url + "/_sandbox/config").json()


@pytest.fixture
def dataverse(_dataverse_empty: SandboxProcess, _dataverse_defaults: dict, http: requests.Session) -> SandboxProcess:
    """An empty Dataverse sandbox with its default knobs."""
    return _fresh(_dataverse_empty, http, _dataverse_defaults)


@pytest.fixture
def finops(_finops_empty: SandboxProcess, _finops_defaults: dict, http: requests.Session) -> SandboxProcess:
    """An empty F&O sandbox (companies usmf, usrt) with its default knobs."""
    return _fresh(_finops_empty, http, _finops_defaults)
