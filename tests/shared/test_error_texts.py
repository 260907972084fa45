"""Error texts name a request by its path alone: no query string, no fragment, no record's key values."""

from __future__ import annotations

import pytest

from shared.errors import SystemUnavailable, request_path
from shared.http import HttpClient, RetryPolicy, new_session

KEYED = "https://ops.example/data/CustomersV3(dataAreaId='usmf',CustomerAccount='C-SECRET(1)')"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (KEYED + "?cross-company=true", "https://ops.example/data/CustomersV3(…)"),
        ("https://org.example/api/data/v9.2/accounts(accountnumber='A-1')/Microsoft.Dynamics.CRM.Merge#x",
         "https://org.example/api/data/v9.2/accounts(…)/Microsoft.Dynamics.CRM.Merge"),
        ("https://acct.example/c/imports/a.csv?sv=2022&sig=abc", "https://acct.example/c/imports/a.csv"),
        ("https://org.example/api/data/v9.2/accounts", "https://org.example/api/data/v9.2/accounts"),
    ],
)
def test_a_request_is_named_without_query_or_keys(url: str, named: str) -> None:
    assert request_path(url) == named


def test_a_system_that_never_answers_is_named_without_the_key_values_asked_for() -> None:
    unreachable = KEYED.replace("https://ops.example", "http://127.0.0.1:9") + "?sig=s3cr3t"
    http = HttpClient(new_session(), dict, RetryPolicy(max_attempts=2), sleep=lambda _seconds: None)
    with pytest.raises(SystemUnavailable) as raised:
        http.send("GET", unreachable)
    text = str(raised.value)
    assert "CustomersV3(…)" in text
    assert "C-SECRET" not in text and "usmf" not in text and "s3cr3t" not in text
