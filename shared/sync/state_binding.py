"""Saved incremental state bound to the connections it was read through and written to.

A delta link or watermark only means something for the system that gave it and the target
that received what was read before it. So the state a leg saves is kept in an envelope,
`{"boundTo": {role: fingerprint}, "read": <the connector's state>}`, with a fingerprint of
each of the leg's two connections as the run saw them (shared/connectors/identity.py: the
system and the identity it reaches, never a secret or a secret's reference). When a
connection's URL or auth has changed since, or the state predates the envelope, the state is
discarded: the leg reads everything, and the run says so in its message. A saved link is thus never followed after
its connection was repointed (and the HTTP client would refuse it anyway: shared/http.py).
"""

from __future__ import annotations

from typing import Any

from shared.connectors.identity import connection_fingerprint
from shared.models import Run, TaskState
from shared.store import Store
from shared.sync.workspace import LegPlan, RunWorkspace

BOUND_TO = "boundTo"
READ = "read"
NOTICE_SEPARATOR = "; "


def leg_binding(workspace: RunWorkspace, plan: LegPlan) -> dict[str, str]:
    """The fingerprints of the leg's source and target connections, by role, as this run saw them."""
    roles = (plan.source_role, plan.target_role)
    return {role: connection_fingerprint(workspace.connections[role]) for role in roles}


def bind(state: dict[str, Any] | None, workspace: RunWorkspace, plan: LegPlan) -> dict[str, Any] | None:
    """The envelope in which a leg's final read state is saved."""
    if state is None:
        return None
    return {BOUND_TO: leg_binding(workspace, plan), READ: state}


def usable_state(
    saved: TaskState | None, workspace: RunWorkspace, plan: LegPlan
) -> tuple[dict[str, Any] | None, str | None]:
    """The saved read state to resume from, or None and why it was discarded (None: nothing was saved)."""
    if saved is None:
        return None, None
    bound = saved.state.get(BOUND_TO)
    what = _what(saved.state.get(READ) if isinstance(bound, dict) else saved.state)
    if not isinstance(bound, dict) or not isinstance(saved.state.get(READ), dict):
        reason = "was saved before saved states were bound to their connections"
    else:
        changed = [role for role, fingerprint in leg_binding(workspace, plan).items() if bound.get(role) != fingerprint]
        if not changed:
            return saved.state[READ], None
        names = ", ".join(f"{role} connection {_name(workspace, role)!r}" for role in changed)
        reason = f"was read through the {names} before its URL or auth changed"
    return None, (f"task {plan.task.name!r} {plan.leg.name}: the saved {what} {reason}: "
                  "discarded, this incremental run reads everything")


def note_on_run(store: Store, run_id: str, notice: str) -> None:
    """Add `notice` to the run's message (once, whatever the number of times a step runs)."""

    def add(run: Run) -> bool:
        if not run.status.active or notice in (run.message or ""):
            return False
        run.message = joined(run.message, notice)
        return True

    store.runs.change(run_id, add)


def joined(*messages: str | None) -> str | None:
    """The messages that are set, in order, as one; None when none is."""
    present = [m for m in messages if m]
    return NOTICE_SEPARATOR.join(present) if present else None


def _what(state: Any) -> str:
    if isinstance(state, dict) and "deltaLink" in state:
        return "delta link"
    if isinstance(state, dict) and "watermark" in state:
        return "watermark"
    return "read state"


def _name(workspace: RunWorkspace, role: str) -> str:
    return workspace.project.connections.by_role().get(role) or role
