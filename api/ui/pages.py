"""The dashboard's HTML: a page frame per view, every value escaped; the data comes later, from the JSON API.

The server decides what the page offers (an admin's buttons or not) and names the view and
its ids in `data-*` attributes; assets/dashboard.js fills the page from the API with the
caller's own key and roles, so the page can show nothing the API would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    # the page's own URL may carry the function key: never send it on as a referrer
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
MODES = (("full", "Full"), ("incremental", "Incremental"), ("failedOnly", "Failed records only"))
LEGS = ("sourceToCds", "cdsToDestination", "cdsToSource")


@dataclass(frozen=True)
class Frame:
    """What every page shares: where the API and the assets are, the way home, and whether the caller is an admin."""

    api_base: str
    home: str
    script: str
    style: str
    icon: str
    admin: bool
    who: str


def page(frame: Frame, title: str, view: str, body: str, **ids: str) -> str:
    data = "".join(f' data-{name}="{escape(value)}"' for name, value in ids.items())
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)} · Data Integration</title>
<link rel="icon" href="{escape(frame.icon)}" type="image/svg+xml">
<link rel="stylesheet" href="{escape(frame.style)}">
<script src="{escape(frame.script)}" defer></script>
</head>
<body data-view="{escape(view)}" data-api="{escape(frame.api_base)}" data-admin="{str(frame.admin).lower()}"{data}>
<header><a class="brand" href="{escape(frame.home)}">Data Integration</a>
<span class="who">{escape(frame.who)}</span></header>
<main>
<h1>{escape(title)}</h1>
<p class="notice" id="notice" role="status" hidden></p>
{body}
</main>
</body>
</html>
"""


def overview(frame: Frame) -> str:
    body = """<section>
<table id="projects"><thead><tr><th>Project</th><th>Tasks</th><th>Schedule</th><th>Next run</th>
<th>Last run</th><th>Status</th></tr></thead><tbody></tbody></table>
<p class="empty" hidden>No projects yet.</p>
</section>"""
    return page(frame, "Projects", "overview", body)


def project(frame: Frame, project_id: str) -> str:
    modes = "".join(f'<option value="{value}">{label}</option>' for value, label in MODES)
    admin = """<section class="admin">
<h2>Administration</h2>
<button type="button" id="delete-project" class="danger">Delete project</button>
</section>""" if frame.admin else ""
    body = f"""<p id="summary"></p>
<section>
<h2>Sync Now</h2>
<form id="sync-now">
<label>Mode <select name="mode">{modes}</select></label>
<label><input type="checkbox" name="dryRun"> Dry run (write nothing)</label>
<button type="submit">Sync Now</button>
</form>
</section>
<section>
<h2>Execution history</h2>
<table id="history"><thead><tr><th>Run</th><th>Status</th><th>Mode</th><th>Started</th><th>Updated</th>
<th>Read</th><th>Written</th><th>Skipped</th><th>Failed</th></tr></thead><tbody></tbody></table>
<p class="empty" hidden>No runs yet.</p>
</section>
<section>
<h2>Open conflicts</h2>
<table id="conflicts"><thead><tr><th>Task</th><th>Business key</th><th>Field</th><th>Baseline</th>
<th>Source</th><th>CDS</th><th>Settle</th></tr></thead><tbody></tbody></table>
<p class="empty" hidden>No open conflicts.</p>
<button type="button" id="more-conflicts" hidden>More</button>
</section>
<section>
<h2>Consent records</h2>
<table id="consent"><thead><tr><th>Accepted by</th><th>When</th><th>Notice version</th><th>Systems</th>
<th>Data residency</th><th>Definition hash</th></tr></thead><tbody></tbody></table>
</section>
{admin}"""
    return page(frame, f"Project {project_id}", "project", body, project=project_id)


def run(frame: Frame, run_id: str, project_id: str) -> str:
    legs = "".join(f'<option value="{leg}">{leg}</option>' for leg in LEGS)
    body = f"""<p><a id="project-link" href="">Project {escape(project_id)}</a></p>
<section>
<h2>Progress</h2>
<dl id="run-status">
<dt>Status</dt><dd id="status"></dd><dt>Mode</dt><dd id="mode"></dd>
<dt>Started</dt><dd id="created"></dd><dt>Updated</dt><dd id="updated"></dd>
<dt>Now</dt><dd id="current"></dd><dt>Message</dt><dd id="message"></dd>
</dl>
<button type="button" id="terminate" class="danger" hidden>Terminate</button>
<table id="progress"><thead><tr><th>Task</th><th>Leg</th><th>Status</th><th>Read</th><th>Written</th>
<th>Skipped</th><th>Failed</th></tr></thead><tbody></tbody>
<tfoot><tr><th colspan="3">Total</th><td class="read"></td><td class="written"></td><td class="skipped"></td>
<td class="failed"></td></tr></tfoot></table>
</section>
<section>
<h2>Error records</h2>
<form id="error-filter">
<label>Task <input name="task" maxlength="128"></label>
<label>Leg <select name="leg"><option value="">any</option>{legs}</select></label>
<label>Field <input name="field" maxlength="256"></label>
<label>Code <input name="code" maxlength="256"></label>
<button type="submit">Filter</button>
</form>
<table id="errors"><thead><tr><th>Task</th><th>Leg</th><th>Business key</th><th>Field</th><th>Code</th>
<th>Message</th><th>Source record</th></tr></thead><tbody></tbody></table>
<p class="empty" hidden>No error records.</p>
<button type="button" id="more-errors" hidden>More</button>
</section>"""
    return page(frame, f"Run {run_id}", "run", body, run=run_id, project=project_id)


def not_found(frame: Frame, what: str) -> str:
    body = f'<p>{escape(what)} does not exist (or no longer does). <a href="{escape(frame.home)}">All projects</a></p>'
    return page(frame, "Not found", "missing", body)
