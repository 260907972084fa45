"""Everything the service and its task hub keep or say, as text, so a test can look for what must not be there.

The storage account is read whole: every entity of every table (the app's and the Durable task
hub's History and Instances), every blob (gzip-compressed Durable payloads opened), then the
host log and every orchestration's status with its history and the outputs in it. A run's
staged pages live only while it runs: read the blobs during a run to see them.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from urllib.parse import quote

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from twin.local_twin import LocalTwin

INSTANCES_PATH = "/runtime/webhooks/durabletask/instances"
CONTINUATION_HEADER = "x-ms-continuation-token"


def table_texts(connection_string: str) -> Iterator[tuple[str, str]]:
    """`(where, text)` for every entity of every table of the account."""
    with TableServiceClient.from_connection_string(connection_string) as tables:
        for table in tables.list_tables():
            for entity in tables.get_table_client(table.name).list_entities():
                where = f"table {table.name} ({entity['PartitionKey']}, {entity['RowKey']})"
                yield where, json.dumps(dict(entity), default=str, ensure_ascii=False)


def blob_texts(connection_string: str) -> Iterator[tuple[str, str]]:
    """`(where, text)` for every blob of the account, gzip-compressed ones opened."""
    with BlobServiceClient.from_connection_string(connection_string) as blobs:
        for container in blobs.list_containers():
            client = blobs.get_container_client(container.name)
            for blob in client.list_blobs():
                content = client.download_blob(blob.name).readall()
                if content[:2] == b"\x1f\x8b":
                    content = gzip.decompress(content)
                yield f"blob {container.name}/{blob.name}", content.decode("utf-8", errors="replace")


def orchestration_texts(twin: LocalTwin) -> Iterator[tuple[str, str]]:
    """`(where, text)` for every instance of the twin's task hub: input, output, custom status, history with outputs."""
    code = quote(twin.host.system_key, safe="")
    base = f"{twin.url}{INSTANCES_PATH}"
    continuation = None
    while True:
        listed = twin.session.get(f"{base}?code={code}&showInput=true", timeout=60,
                                  headers={CONTINUATION_HEADER: continuation} if continuation else {})
        listed.raise_for_status()
        for instance in listed.json():
            status = twin.session.get(
                f"{base}/{quote(instance['instanceId'], safe=':@')}", timeout=60,
                params={"code": twin.host.system_key, "showHistory": "true", "showHistoryOutput": "true",
                        "showInput": "true"},
            )
            yield f"orchestration {instance['instanceId']}", status.text
        continuation = listed.headers.get(CONTINUATION_HEADER)
        if not continuation:
            return


def everything(twin: LocalTwin) -> Iterator[tuple[str, str]]:
    """Storage, orchestration statuses and the host log (worker output included) of a twin."""
    yield from table_texts(twin.storage)
    yield from blob_texts(twin.storage)
    yield from orchestration_texts(twin)
    yield "devhost log", twin.host.logs()
