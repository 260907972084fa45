"""A system's refusals are the system's (SystemRefused, naming its answer), never the caller's bad input."""

from __future__ import annotations

import pytest

from shared.auth import StaticToken
from shared.connectors import build_connector
from shared.connectors.base import Connector, ReadRequest
from shared.errors import ConfigurationError, InputError, SystemRefused
from shared.models import Connection
from tests.connectors.hostile import json_answer, serving

REFUSAL = {"error": {"code": "0x80040203", "message": "the service will not take this"}}


def connector(kind: str, url: str) -> Connector:
    connection = Connection.model_validate({"kind": kind, "url": url, "auth": {"type": "none"}})
    return build_connector(connection, StaticToken("token")).scoped("usmf")


@pytest.mark.parametrize(("kind", "entity"), [("dataverse", "accounts"), ("finops", "CustomersV3")])
def test_a_refused_read_by_keys_is_the_systems_refusal_naming_its_answer(kind: str, entity: str) -> None:
    with serving(json_answer(REFUSAL, 400)) as system, \
            pytest.raises(SystemRefused, match="will not take this") as refused:
        connector(kind, system.url).read_by_keys(entity, ["number"], [["A-1"]])
    assert isinstance(refused.value, ConfigurationError) and not isinstance(refused.value, InputError)


def test_an_expired_change_tracking_link_is_refused_by_the_system_and_asks_for_a_full_sync() -> None:
    with serving(json_answer(REFUSAL, 410)) as system, pytest.raises(SystemRefused, match="expired: run a full sync"):
        state = {"deltaLink": f"{system.url}/api/data/v9.2/accounts?$deltatoken=1"}
        list(connector("dataverse", system.url).read_pages(ReadRequest("accounts", incremental=True, state=state)))
