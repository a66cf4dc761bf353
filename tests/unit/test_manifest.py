"""Manifest validation: bad lines are reported with their line number and skipped; good lines are used."""

from __future__ import annotations

import json
from pathlib import Path

from nzc_knowledge.ingest.manifest import read_manifest
from nzc_knowledge.ingest.sources import discover
from nzc_knowledge.models import SkippedFile

CORPUS = Path(__file__).parents[1] / "data" / "corpus"


def write_manifest(folder: Path, lines: list[str]) -> Path:
    path = folder / "manifest.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_fixture_manifest_errors_name_line_and_cause():
    manifest = read_manifest(CORPUS / "manifest.jsonl", CORPUS)
    errors = "\n".join(manifest.errors)
    assert "manifest.jsonl:12: malformed JSON" in errors
    assert "manifest.jsonl:13: unknown field(s) colour" in errors
    assert "manifest.jsonl:14: unknown domain 'transport'" in errors
    assert len(manifest.errors) == 3
    ids = {entry.id for entry in manifest.entries.values()}
    assert {"ljubljana-biowaste", "kozani-heat", "missing-file"} <= ids and "bad-key" not in ids


def test_values_are_normalised(tmp_path: Path):
    (tmp_path / "a.md").write_text("# A\n\ntext", encoding="utf-8")
    row = {"id": "a", "file": "a.md", "country": "el", "language": "IT", "type": "Case_Study", "year": "2021",
           "domains": ["Energy"]}
    manifest = read_manifest(write_manifest(tmp_path, [json.dumps(row)]), tmp_path)
    fields = next(iter(manifest.entries.values())).fields
    assert fields["country"] == "GR" and fields["language"] == "it" and fields["type"] == "case_study"
    assert fields["year"] == 2021 and fields["domains"] == ["energy"]


def test_bad_values_and_duplicates(tmp_path: Path):
    lines = [
        json.dumps({"id": "a", "file": "a.md"}),
        json.dumps({"id": "a", "file": "b.md"}),
        json.dumps({"id": "c", "file": "a.md"}),
        json.dumps({"id": "d", "file": "d.md", "country": "Germany"}),
        json.dumps({"id": "e", "file": "e.md", "year": 20.5}),
        json.dumps({"id": "f", "file": "../outside.md"}),
        json.dumps({"file": "g.md"}),
        json.dumps(["not", "an", "object"]),
    ]
    manifest = read_manifest(write_manifest(tmp_path, lines), tmp_path)
    assert [error.split(": ", 1)[1] for error in manifest.errors] == [
        "duplicate id 'a'; line skipped",
        "file 'a.md' is listed twice; line skipped",
        "country 'Germany' is not an ISO 3166-1 alpha-2 code (e.g. DE, IT, GR); line skipped",
        "year 20.5 must be an integer between 1900 and 2100; line skipped",
        "file '../outside.md' points outside the source folder; line skipped",
        "missing required field 'id'; line skipped",
        "a manifest line must be a JSON object; line skipped",
    ]
    assert [entry.id for entry in manifest.entries.values()] == ["a"]


def test_discover_pairs_files_with_entries_and_reports_missing_ones():
    files, errors, skipped = discover(CORPUS)
    by_name = {source.relative: source for source in files}
    assert by_name["docs/kozani-heat.html"].entry.id == "kozani-heat"
    assert by_name["docs/tartu-bike-share.md"].entry is None  # its only manifest line was invalid
    assert "manifest.jsonl" not in by_name
    assert len(errors) == 3
    assert skipped == [SkippedFile("docs/does-not-exist.md", "listed in the manifest but not found")]


def test_ignore_file_and_hidden_files(tmp_path: Path):
    (tmp_path / "README.md").write_text("# readme", encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cities.csv").write_text("a,b", encoding="utf-8")
    (tmp_path / ".hidden.md").write_text("# hidden", encoding="utf-8")
    (tmp_path / "doc.md").write_text("# doc", encoding="utf-8")
    (tmp_path / ".nzcignore").write_text("# not content\nREADME.md\ndata/\n", encoding="utf-8")
    files, _, _ = discover(tmp_path)
    assert [source.relative for source in files] == ["doc.md"]
