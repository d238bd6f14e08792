"""Files to send (``LocalParticipant.send_file``), read where Python runs: a ``File``/``Blob`` Python holds (on the
page, or in a Web Worker, where Blob is available too), or a file of an ``<input type=file>`` of this page. The
bridge's page host serves the same for a worker (``file.info``/``file.read`` in ``lkpw-host.mjs``) when the file is
the page's."""

from __future__ import annotations

from typing import Any


def _blob(file: Any) -> Any:
    if isinstance(file, dict):
        import js

        selector, index = str(file["selector"]), int(file.get("index", 0))
        document = getattr(js, "document", None)
        element = document.querySelector(selector) if document is not None else None
        files = getattr(element, "files", None) if element is not None else None
        if files is None or index >= files.length or index < 0:
            raise FileNotFoundError(f"no file {index} in an <input type=file> matching {selector!r} on this page")
        return files.item(index)
    if not hasattr(file, "slice") or not hasattr(file, "size"):
        raise TypeError(f"send_file takes a path, a File/Blob or a PageFile, not {type(file).__name__}")
    return file


def file_info(file: Any) -> dict[str, Any]:
    blob = _blob(file)
    return {"name": str(getattr(blob, "name", "") or ""), "size": int(blob.size), "type": str(blob.type or "")}


async def read_file(file: Any, offset: int, length: int) -> bytes:
    blob = _blob(file)
    buffer = await blob.slice(offset, offset + length).arrayBuffer()
    return bytes(buffer.to_bytes())
