"""How a run cuts a leg into bounded pieces, whatever the size of the source.

- a **page** (`DI_PAGE_SIZE` records, 1,000) is one staged blob and one load step's bulk write;
- an **extract step** stages up to `DI_PAGES_PER_STEP` pages (50) and says where the next resumes;
- the keys an extract step sees go to `DI_KEY_BUCKETS` buckets (32) by a hash of the key, each
  resolved by its own step, so no step holds more than a bucket's share of a leg's keys;
- a **window** (`load_pages`, one sub-orchestration) loads up to `DI_PAGES_PER_WINDOW` pages (16);
- a two-way **merge step** takes consecutive buckets holding up to MERGE_PAGES pages of staged
  records of both sides (`merge_ranges`), so a run that changed little merges in few steps;
- a generation of `sync_leg` schedules at most CALLS_PER_GENERATION steps or windows, then
  continues as new.

So no orchestration's history holds more than a window's or a generation's events, at any size.
`begin_run` reads the settings once and the plan carries them: every step of a run cuts the same
way even if the settings change while it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from shared.errors import SettingError
from shared.settings import app_setting

READ_SIZE = 5000
"""Records asked of the source in one request (at most)."""
CALLS_PER_GENERATION = 8
"""Steps or windows one generation of `sync_leg` schedules before it continues as new."""
MERGE_PAGES = 5
"""A two-way merge step takes the staged records of up to this many pages (both sides together)."""
SETTINGS = {
    "page_size": ("DI_PAGE_SIZE", 1000, 1, 1000),
    "pages_per_step": ("DI_PAGES_PER_STEP", 50, 1, 500),
    "pages_per_window": ("DI_PAGES_PER_WINDOW", 16, 1, 64),
    "key_buckets": ("DI_KEY_BUCKETS", 32, 1, 256),
}
"""Field -> (app setting, default, least, most)."""


@dataclass(frozen=True)
class Batching:
    page_size: int = 1000
    pages_per_step: int = 50
    pages_per_window: int = 16
    key_buckets: int = 32

    @property
    def read_size(self) -> int:
        """Records per source request: never more than one extract step stages."""
        return min(READ_SIZE, self.page_size * self.pages_per_step)

    @property
    def merge_size(self) -> int:
        """The staged records of both sides one two-way merge step takes at most (unless one bucket holds more)."""
        return self.page_size * MERGE_PAGES

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Batching:
        return cls(**{name: int(data[name]) for name in SETTINGS})


DEFAULT_BATCHING = Batching()


def batching_from_settings(env: Mapping[str, str] | None = None) -> Batching:
    """The batching the app settings ask for; SettingError naming the setting that is not a whole number in range."""
    values = {}
    for name, (setting, default, least, most) in SETTINGS.items():
        text = (app_setting(setting, env) or "").strip()
        if not text:
            values[name] = default
            continue
        if not (text.isascii() and text.isdigit() and len(text) <= 6 and least <= int(text) <= most):
            raise SettingError(f"the app setting {setting} must be a whole number from {least} to {most}",
                               field=setting)
        values[name] = int(text)
    return Batching(**values)


def merge_ranges(staged: list[int], limit: int) -> list[tuple[int, int]]:
    """Consecutive buckets `(first, last)` cutting a two-way task's buckets into merge steps: each range holds at most
    `limit` staged records (`staged[b]`: bucket b's), unless one bucket alone holds more; every bucket is in one."""
    ranges: list[tuple[int, int]] = []
    first, held = 0, 0
    for bucket, count in enumerate(staged):
        if bucket > first and held + count > limit:
            ranges.append((first, bucket - 1))
            first, held = bucket, 0
        held += count
    if staged:
        ranges.append((first, len(staged) - 1))
    return ranges
