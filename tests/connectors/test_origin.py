"""A connector's requests stay on its connection's origin, whatever links the system hands back.

A hostile system (a local server) answers with links to a second local server; that second
server must never receive anything, with or without the connection's token.
"""

from __future__ import annotations

import json
import re

import pytest

from shared.auth import StaticToken
from shared.connectors import build_connector
from shared.connectors.base import Connector, ReadRequest
from shared.http import ForeignOriginRefused, HttpClient, new_session, origin_of
from shared.models import Connection
from tests.connectors.hostile import Answer, Received, json_answer, serving

TOKEN = "token-of-the-real-organisation"
SYSTEM = "connection 'hostile' (dataverse)"
DATA = "/api/data/v9.2/accounts"
ROW = {"accountid": "00000000-0000-0000-0000-000000000001", "name": "First"}


def connector(kind: str, url: str) -> Connector:
    connection = Connection.model_validate({"kind": kind, "url": url, "auth": {"type": "none"}})
    return build_connector(connection, StaticToken(TOKEN), system=SYSTEM)


def page_linking_to(origin: str | None, path: str = DATA) -> Answer:
    """A page of one record whose next link is on `origin` (None: on the server's own origin, once)."""

    def answer(request: Received, own_url: str) -> tuple[int, dict[str, str], bytes]:
        body: dict[str, object] = {"value": [ROW]}
        if origin is not None or "$skiptoken" not in request.path:
            body["@odata.nextLink"] = f"{origin or own_url}{path}?$skiptoken=2"
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return answer


def delta_read(own_url: str) -> ReadRequest:
    return ReadRequest(entity="accounts", incremental=True, state={"deltaLink": f"{own_url}{DATA}?$deltatoken=1"})


def test_a_next_link_to_another_origin_is_refused_naming_it_and_never_reached() -> None:
    with serving(json_answer({"value": []})) as foreign, serving(page_linking_to(foreign.url)) as hostile:
        pages = connector("dataverse", hostile.url).read_pages(delta_read(hostile.url))
        first = next(pages)
        with pytest.raises(ForeignOriginRefused) as refused:
            next(pages)
    assert first.records == [ROW]
    assert SYSTEM in str(refused.value) and origin_of(foreign.url) in str(refused.value)
    assert foreign.received == []
    assert [r.headers.get("Authorization") for r in hostile.received] == [f"Bearer {TOKEN}"]


def test_a_next_link_on_the_connections_own_origin_is_followed_with_its_token() -> None:
    with serving(page_linking_to(None)) as system:
        pages = list(connector("dataverse", system.url).read_pages(delta_read(system.url)))
    assert [page.records for page in pages] == [[ROW], [ROW]]
    assert [r.headers.get("Authorization") for r in system.received] == [f"Bearer {TOKEN}"] * 2


def test_a_saved_delta_link_to_another_origin_is_refused_before_anything_is_sent() -> None:
    with serving(json_answer({"value": []})) as foreign, serving(json_answer({"value": []})) as own, \
            pytest.raises(ForeignOriginRefused, match=re.escape(origin_of(foreign.url))):
        list(connector("dataverse", own.url).read_pages(delta_read(foreign.url)))
    assert foreign.received == [] and own.received == []


def test_an_fo_next_link_to_another_origin_is_refused() -> None:
    with serving(json_answer({"value": []})) as foreign, \
            serving(page_linking_to(foreign.url, "/data/CustomersV3")) as hostile:
        pages = connector("finops", hostile.url).scoped("usmf").read_pages(ReadRequest(entity="CustomersV3"))
        assert next(pages).records == [ROW]
        with pytest.raises(ForeignOriginRefused, match=re.escape(origin_of(foreign.url))):
            next(pages)
    assert foreign.received == []


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_origin_is_refused_and_not_followed(status: int) -> None:
    with serving(json_answer({"value": []})) as foreign:

        def redirect(request: Received, own_url: str) -> tuple[int, dict[str, str], bytes]:
            return status, {"Location": f"{foreign.url}{DATA}"}, b""

        with serving(redirect) as hostile, pytest.raises(ForeignOriginRefused, match=re.escape(origin_of(foreign.url))):
            list(connector("dataverse", hostile.url).read_pages(delta_read(hostile.url)))
    assert foreign.received == []
    assert len(hostile.received) == 1


def test_a_client_confined_to_one_origin_cannot_be_confined_to_another() -> None:
    client = HttpClient(new_session(), dict)
    client.confine_to("https://org.crm.dynamics.com/")
    client.confine_to("https://ORG.crm.dynamics.com:443/api/")
    with pytest.raises(ValueError, match=re.escape("confined to https://org.crm.dynamics.com:443")):
        client.confine_to("https://other.crm.dynamics.com/")


@pytest.mark.parametrize(("left", "right", "same"), [
    ("https://Org.crm.dynamics.com", "https://org.crm.dynamics.com:443/api/data", True),
    ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b?x=1", True),
    ("https://org.crm.dynamics.com", "http://org.crm.dynamics.com", False),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8081", False),
    ("https://org.crm.dynamics.com", "https://org.crm.dynamics.com.attacker.example", False),
    ("https://org.crm.dynamics.com", "https://org.crm.dynamics.com@attacker.example", False),
])
def test_origins_compare_scheme_host_and_port(left: str, right: str, same: bool) -> None:
    assert (origin_of(left) == origin_of(right)) is same
