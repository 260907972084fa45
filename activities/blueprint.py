"""The blueprint every activity registers on: each one runs `observed` (shared/telemetry.py), so its log
records carry its step's run, project, task, leg and page, and it logs how it ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.durable_functions as df

from shared.telemetry import observed


class StepBlueprint(df.Blueprint):
    def activity_trigger(self, input_name: str, activity: str | None = None) -> Callable[[Any], Any]:
        register = super().activity_trigger(input_name, activity)
        return lambda step: register(observed(step))


blueprint = StepBlueprint()
