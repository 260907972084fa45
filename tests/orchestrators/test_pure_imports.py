"""Orchestrators import only pure code: loading them loads no storage SDK, no HTTP client, no token library.

Every orchestrator episode may run in a fresh worker process, and what it imports is loaded on its
replay path; I/O libraries there would also invite I/O into code that must be deterministic.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

IMPURE = ("azure.data.tables", "azure.storage.blob", "azure.core", "requests", "msal")
ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_orchestrators_loads_no_storage_sdk_http_client_or_token_library() -> None:
    script = "import json, sys, orchestrators; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                                       check=True, timeout=120).stdout)

    assert "orchestrators.sync_project" in loaded
    assert [name for name in loaded if any(name == p or name.startswith(p + ".") for p in IMPURE)] == []
