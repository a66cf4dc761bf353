"""Find the files of a content folder and pair them with their manifest entries.

`.nzcignore` in the source folder lists glob patterns (relative to it) of files that are not content,
such as READMEs and data folders; hidden files and folders are always ignored.

Nothing outside the source folder is read: a symbolic link whose target lies outside it is skipped with a
reason (manifest paths that point outside are refused the same way), and so is a file over the size limit or
with control characters in its name (they would garble reports and terminals).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from nzc_knowledge.errors import NotFound
from nzc_knowledge.ingest.manifest import MANIFEST_NAME, Manifest, ManifestEntry, read_manifest
from nzc_knowledge.models import SkippedFile

IGNORE_FILE = ".nzcignore"
OUTSIDE_LINK = "symbolic link to a file outside the source folder; not read"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # control characters, undecodable bytes


@dataclass
class SourceFile:
    path: Path
    relative: str  # posix path relative to the source folder: what the report and the snapshot name
    entry: ManifestEntry | None
    fingerprint: str  # sha256 of the bytes


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ignore_patterns(source_dir: Path) -> list[str]:
    ignore = source_dir / IGNORE_FILE
    if not ignore.exists():
        return []
    lines = (line.strip() for line in ignore.read_text(encoding="utf-8").splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith("#")]


def _ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(part.startswith(".") for part in parts) or any(
        fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns
    )


def printable_name(relative: str) -> str:
    """The path with control characters and undecodable bytes escaped (\\x1b), safe to print and store."""
    return _UNPRINTABLE.sub(lambda match: f"\\x{ord(match.group()) & 0xFF:02x}", relative)


def inside(path: Path, source_dir: Path) -> bool:
    """Whether `path`, with every symbolic link resolved, lies in the (resolved) source folder."""
    return path.resolve().is_relative_to(source_dir)


def discover(
    source_dir: Path, max_file_bytes: int | None = None
) -> tuple[list[SourceFile], list[str], list[SkippedFile]]:
    """All content files under `source_dir` (sorted), manifest errors, and files skipped before reading.

    Skipped: manifest entries whose file is missing, links out of the folder, names with control characters,
    files over `max_file_bytes`.
    """
    source_dir = source_dir.resolve()
    if not source_dir.is_dir():
        raise NotFound(f"source folder {source_dir} does not exist")
    patterns = _ignore_patterns(source_dir)
    skipped: list[SkippedFile] = []
    manifest = Manifest()
    for manifest_path in sorted(source_dir.rglob(MANIFEST_NAME)):
        relative = manifest_path.relative_to(source_dir).as_posix()
        if _ignored(relative, patterns):
            continue
        if not inside(manifest_path, source_dir):
            skipped.append(SkippedFile(printable_name(relative), OUTSIDE_LINK))
            continue
        part = read_manifest(manifest_path, source_dir)
        manifest.errors.extend(part.errors)
        for path, entry in part.entries.items():
            if path not in manifest.entries:
                manifest.entries[path] = entry
    files = []
    refused: set[Path] = set()  # skipped here, so not "missing" for the manifest
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir).as_posix()
        if path.name == MANIFEST_NAME or path.name == IGNORE_FILE or _ignored(relative, patterns):
            continue
        if path.is_symlink() and not inside(path, source_dir):
            skipped.append(SkippedFile(printable_name(relative), OUTSIDE_LINK))
            continue
        if not path.is_file():
            continue
        if _UNPRINTABLE.search(relative):
            skipped.append(SkippedFile(printable_name(relative), "the file name holds control characters or "
                                       "undecodable bytes; rename the file"))
            refused.add(path.resolve())
            continue
        size = path.stat().st_size
        if max_file_bytes is not None and size > max_file_bytes:
            skipped.append(SkippedFile(relative, f"file is {size:,} bytes; the limit is {max_file_bytes:,} "
                                       "(NZC_MAX_FILE_BYTES)"))
            refused.add(path.resolve())
            continue
        resolved = path.resolve()
        files.append(SourceFile(resolved, relative, manifest.entries.get(resolved), sha256_file(resolved)))
    present = {source.path for source in files} | refused
    skipped.extend(
        SkippedFile(printable_name(entry.fields["file"]), "listed in the manifest but not found")
        for path, entry in manifest.entries.items()
        if path not in present
    )
    return files, manifest.errors, skipped
