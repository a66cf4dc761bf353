"""Find the files of a content folder and pair them with their manifest entries.

`.nzcignore` in the source folder lists glob patterns (relative to it) of files that are not content,
such as READMEs and data folders; hidden files and folders are always ignored.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path

from nzc_knowledge.ingest.manifest import MANIFEST_NAME, Manifest, ManifestEntry, read_manifest

IGNORE_FILE = ".nzcignore"


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


def discover(source_dir: Path) -> tuple[list[SourceFile], list[str], list[str]]:
    """All content files under `source_dir` (sorted), manifest errors, and manifest entries whose file is missing."""
    source_dir = source_dir.resolve()
    if not source_dir.is_dir():
        raise FileNotFoundError(f"source folder {source_dir} does not exist")
    patterns = _ignore_patterns(source_dir)
    manifest = Manifest()
    for manifest_path in sorted(source_dir.rglob(MANIFEST_NAME)):
        relative = manifest_path.relative_to(source_dir).as_posix()
        if _ignored(relative, patterns):
            continue
        part = read_manifest(manifest_path, source_dir)
        manifest.errors.extend(part.errors)
        for path, entry in part.entries.items():
            if path not in manifest.entries:
                manifest.entries[path] = entry
    files = []
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir).as_posix()
        if not path.is_file() or path.name == MANIFEST_NAME or path.name == IGNORE_FILE or _ignored(relative, patterns):
            continue
        files.append(SourceFile(path, relative, manifest.entries.get(path.resolve()), sha256_file(path)))
    present = {source.path.resolve() for source in files}
    missing = [
        f"{entry.fields['file']} (manifest line {entry.line}, id {entry.id!r}): listed in the manifest but not found"
        for path, entry in manifest.entries.items()
        if path not in present
    ]
    return files, manifest.errors, missing
