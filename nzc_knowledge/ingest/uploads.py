"""Files uploaded by curators through the admin API: safe names, size and type limits, a manifest line each.

Uploads go to `<source_dir>/uploads/` with their own `manifest.jsonl`, so the next reindex ingests them like any
other content and a curator can see (and edit) exactly what was added.

Ids are unique: an upload whose id another uploaded file already uses is refused (409) unless `replace=true`, which
deletes that older file together with its manifest line; an id used by curated content outside `uploads/` is
always refused. A `url` must be an http(s) address (422).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Any, BinaryIO

from nzc_knowledge.errors import BadRequest, Conflict, InvalidParameter, PayloadTooLarge
from nzc_knowledge.ingest.extract import SUPPORTED_SUFFIXES
from nzc_knowledge.ingest.manifest import MANIFEST_NAME, OPTIONAL, VALID_ID, read_manifest, validate_fields

UPLOAD_FOLDER = "uploads"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_lock = threading.Lock()


def safe_file_name(name: str) -> str:
    """A file name that cannot escape the upload folder or hide: no path parts, no leading dot, ASCII only."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = _UNSAFE.sub("-", base).strip("-.")
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:
        raise InvalidParameter(f"file name {name!r} has no usable name and extension")
    if f".{suffix.lower()}" not in SUPPORTED_SUFFIXES:
        raise InvalidParameter(f"file type .{suffix} is not accepted; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    return f"{stem[:100]}.{suffix.lower()}"


def store_upload(
    source_dir: Path, file_name: str, stream: BinaryIO, metadata: dict[str, Any], max_bytes: int, replace: bool = False
) -> dict[str, Any]:
    """Save the upload and its manifest line; return the manifest line. Nothing is written on any error."""
    unknown = sorted(set(metadata) - set(OPTIONAL) - {"id"})
    if unknown:
        raise InvalidParameter(f"unknown metadata field(s) {', '.join(unknown)}; allowed: id, {', '.join(OPTIONAL)}")
    fields = {key: value for key, value in metadata.items() if key != "id" and value not in (None, "", [])}
    try:
        validate_fields(fields)
    except ValueError as error:
        raise InvalidParameter(str(error)) from None
    name = safe_file_name(file_name)
    resource_id = str(metadata.get("id") or f"upload-{Path(name).stem}".lower())
    if not VALID_ID.match(resource_id):
        raise InvalidParameter(f"invalid id {resource_id!r}: use letters, digits and . _ : - (at most 200 characters)")
    folder = source_dir / UPLOAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    with _lock:
        if target.exists() and not replace:
            raise Conflict(f"{UPLOAD_FOLDER}/{name} already exists; send replace=true to overwrite it")
        _check_id_outside_uploads(source_dir, resource_id)
        displaced = _upload_using_id(folder / MANIFEST_NAME, resource_id, name)
        if displaced is not None and not replace:
            raise Conflict(f"id {resource_id!r} is already used by {UPLOAD_FOLDER}/{displaced}; choose another id, "
                           "or send replace=true to replace that file (it is deleted with its manifest line)")
        temporary = _copy_limited(stream, folder, max_bytes)
        if temporary.stat().st_size == 0:
            temporary.unlink()
            raise BadRequest("the uploaded file is empty")
        os.replace(temporary, target)
        line = {"id": resource_id, "file": name, **fields}
        _write_manifest_line(folder / MANIFEST_NAME, line)
        older = folder / displaced if displaced is not None else None
        if older is not None and older.resolve().parent == folder.resolve():  # never delete outside the folder
            older.unlink(missing_ok=True)
    return line


def _upload_using_id(manifest: Path, resource_id: str, file_name: str) -> str | None:
    """The uploaded file (other than `file_name`) whose manifest line has `resource_id`, if any."""
    if not manifest.exists():
        return None
    for raw in manifest.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and row.get("id") == resource_id and row.get("file") != file_name:
            return str(row.get("file"))
    return None


def _check_id_outside_uploads(source_dir: Path, resource_id: str) -> None:
    """Refuse an id that a curated manifest outside uploads/ already gives another file."""
    root = source_dir.resolve()
    for manifest in sorted(root.rglob(MANIFEST_NAME)):
        if manifest.parent == root / UPLOAD_FOLDER or not manifest.resolve().is_relative_to(root):
            continue
        for entry in read_manifest(manifest, root).entries.values():
            if entry.id == resource_id:
                where = manifest.relative_to(root).as_posix()
                raise Conflict(f"id {resource_id!r} is already used by {where} line {entry.line} "
                               f"({entry.fields['file']}); choose another id")


def _copy_limited(stream: BinaryIO, folder: Path, max_bytes: int) -> Path:
    handle, path = tempfile.mkstemp(prefix=".upload-", dir=folder)
    size = 0
    with os.fdopen(handle, "wb") as out:
        while block := stream.read(1 << 20):
            size += len(block)
            if size > max_bytes:
                out.close()
                Path(path).unlink(missing_ok=True)
                raise PayloadTooLarge(f"the file is larger than the limit of {max_bytes} bytes")
            out.write(block)
    return Path(path)


def _write_manifest_line(manifest: Path, line: dict[str, Any]) -> None:
    """Rewrite the uploads manifest with this file's line replacing any older line for the same file or id."""
    kept = []
    if manifest.exists():
        for raw in manifest.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(raw)
            except json.JSONDecodeError:
                kept.append(raw)
                continue
            if row.get("file") != line["file"] and row.get("id") != line["id"]:
                kept.append(raw)
    kept.append(json.dumps(line, ensure_ascii=False))
    handle, temporary = tempfile.mkstemp(prefix=".manifest-", dir=manifest.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("\n".join(kept) + "\n")
    os.replace(temporary, manifest)
