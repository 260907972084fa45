"""The names a source filter refers to."""

from __future__ import annotations

import pytest

from shared.filters import filter_fields


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("statecode eq 0", {"statecode"}),
        ("name eq 'O''Brien and sons' and revenue gt 1000.5", {"name", "revenue"}),
        ("contains(name, 'x') or startswith(accountnumber,'A-')", {"name", "accountnumber"}),
        ("modifiedon ge 2024-01-01T00:00:00Z and accountid ne 5d1c0e3a-0000-0000-0000-000000000001", {"modifiedon", "accountid"}),
        ("CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", {"CreditLimitIsMandatory"}),
        ("primarycontactid/fullname eq null", {"primarycontactid"}),
        ("not (Status eq 'and or')", {"Status"}),
    ],
)
def test_filter_fields(expression: str, names: set[str]) -> None:
    assert filter_fields(expression) == names
