"""`make up`: the local twin in the background for manual use; `make down` stops it.

    python -m twin.up [--records N] [--run-dir .run]

Writes the servers' addresses, the function key and the dashboard's URL to `{run-dir}/twin.env`
once everything listens, keeps devhost's log in `{run-dir}/devhost.log`, and stops every part on SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from twin.local_twin import LocalTwin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    args = parser.parse_args()
    args.run_dir.mkdir(exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with LocalTwin.start(records=args.records, log_dir=args.run_dir) as twin:
        twin.connect_all()
        lines = [f"DEVHOST_URL={twin.url}", f"DEVHOST_FUNCTION_KEY={twin.host.key}", f"STORAGE={twin.storage}",
                 f"DASHBOARD_URL={twin.dashboard_url}"]
        lines += [f"{name.upper()}_URL={system.url}" for name, system in twin.systems.items()]
        (args.run_dir / "twin.env").write_text("\n".join(lines) + "\n")
        print("\n".join(lines), flush=True)
        try:
            while True:
                time.sleep(3600)
        except (KeyboardInterrupt, SystemExit):
            pass
    (args.run_dir / "twin.env").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
