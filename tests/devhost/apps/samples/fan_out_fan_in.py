"""Fan-out/fan-in: back up every file of a folder, one activity per file, then add up the bytes."""

import shutil
import time
from pathlib import Path

import azure.durable_functions as df

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def backup_folder(context: df.DurableOrchestrationContext):
    request = context.get_input() or {}
    if not request.get("source") or not request.get("target"):
        raise ValueError("a source and a target folder are required")
    files = yield context.call_activity("list_files", request["source"])
    copies = [
        context.call_activity("copy_file", {"path": path, "target": request["target"],
                                            "pace_s": request.get("pace_s", 0)})
        for path in files
    ]
    sizes = yield context.task_all(copies)
    return {"files": len(files), "bytes": sum(sizes)}


@bp.activity_trigger(input_name="folder")
def list_files(folder: str) -> list:
    return sorted(str(path) for path in Path(folder).iterdir() if path.is_file())


@bp.activity_trigger(input_name="work")
def copy_file(work: dict) -> int:
    source = Path(work["path"])
    # pace_s stands for a slow upload, so that a copy can be caught under way.
    time.sleep(work["pace_s"])
    target = Path(work["target"]) / source.name
    shutil.copyfile(source, target)
    return target.stat().st_size
