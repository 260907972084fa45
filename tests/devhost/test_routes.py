"""Route templates read as Azure Functions reads them."""

from __future__ import annotations

import pytest

from devhost.routes import RouteError, RouteTemplate


@pytest.mark.parametrize(("template", "path", "values"), [
    ("health", "health", {}),
    ("health", "HEALTH/", {}),
    ("projects/{id}/runs", "projects/p-1/runs", {"id": "p-1"}),
    ("hello/{name:alpha}/{times:int?}", "hello/ana/3", {"name": "ana", "times": "3"}),
    ("hello/{name:alpha}/{times:int?}", "hello/ana", {"name": "ana"}),
    ("hello/{name:alpha}/{times:int?}", "hello/an4", None),
    ("hello/{name:alpha}/{times:int?}", "hello/ana/x", None),
    ("items/{id:int:range(1,10)}", "items/10", {"id": "10"}),
    ("items/{id:int:range(1,10)}", "items/11", None),
    ("items/{id:guid}", "items/3f2504e0-4f89-11d3-9a0c-0305e82c3301", {"id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"}),
    ("items/{id:guid}", "items/3f25", None),
    ("codes/{code:regex(^[a-z]{{2}}\\d$)}", "codes/ab1", {"code": "ab1"}),
    ("codes/{code:regex(^[a-z]{{2}}\\d$)}", "codes/abc1", None),
    ("pages/{page=1}", "pages", {"page": "1"}),
    ("files/{*path}", "files/a/b/c.txt", {"path": "a/b/c.txt"}),
    ("files/{name}.{ext}", "files/report.final.pdf", {"name": "report.final", "ext": "pdf"}),
    ("a/{x}", "a/b/c", None),
])
def test_match(template: str, path: str, values: dict[str, str] | None) -> None:
    assert RouteTemplate(template).match(path) == values


def test_literal_segments_win_over_parameters() -> None:
    templates = [RouteTemplate(t) for t in ("projects/{*rest}", "projects/{id}", "projects/{id:int}", "projects/new")]

    ordered = sorted(templates, key=lambda t: t.specificity)

    assert [t.template for t in ordered] == ["projects/new", "projects/{id:int}", "projects/{id}", "projects/{*rest}"]


@pytest.mark.parametrize("template", ["a/{x}/{x}", "a/{x", "a/{x:nosuch}", "a/{1x}"])
def test_unreadable_templates_are_refused(template: str) -> None:
    with pytest.raises(RouteError):
        RouteTemplate(template)
