"""Hostile files: decoding by detection, per-file time and memory limits, linear de-hyphenation, no reading
outside the source folder, http(s)-only URLs and upload id conflicts."""

from __future__ import annotations

import io
import json
import random
import sys
import time
from pathlib import Path

import pytest

from nzc_knowledge.errors import Conflict, InvalidParameter
from nzc_knowledge.errors import ExtractionError
from nzc_knowledge.ingest import sources
from nzc_knowledge.ingest.extract import extract
from nzc_knowledge.ingest.extract.isolation import ExtractionLimits
from nzc_knowledge.ingest.extract.pdf import hyphenated_compounds, join_hyphenated
from nzc_knowledge.ingest.manifest import read_manifest
from nzc_knowledge.ingest.sources import OUTSIDE_LINK, discover
from nzc_knowledge.ingest.uploads import UPLOAD_FOLDER, store_upload

sys.path.insert(0, str(Path(__file__).parents[1]))
from hostile_corpus import _zip_named_pdf  # noqa: E402

PROSE = "Heat pumps replaced gas boilers in the social housing of the district."


# --- decoding (item 9) ---------------------------------------------------------------------------------------

def test_utf16_with_a_byte_order_mark_is_decoded(tmp_path: Path):
    path = tmp_path / "utf16.txt"
    path.write_bytes(f"Ljubljana cycling\n\n{PROSE}\n".encode("utf-16"))
    document = extract(path)
    assert "\x00" not in document.text
    assert document.title == "Ljubljana cycling" and PROSE in document.text


@pytest.mark.parametrize(("encoding", "text"), [
    ("latin-1", "Chauffage urbain à Grenoble : la métropole étend le réseau de chaleur."),
    ("cp1250", "Kraków: ciepło systemowe i zielona energia dla mieszkańców."),
    ("cp1253", "Κοζάνη: τηλεθέρμανση μετά τον λιγνίτη."),
])
def test_legacy_code_pages_are_detected(tmp_path: Path, encoding: str, text: str):
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode(encoding))
    assert extract(path).text == text


def test_utf8_with_a_few_stray_bytes_keeps_its_accents(tmp_path: Path):
    path = tmp_path / "edited.md"
    path.write_bytes("# Fernwärme in Köln\n\nDie Bürgerbeteiligung begann früh; ".encode() + b"\xff\x80 "
                     + "die Förderung kam später.\n".encode())
    document = extract(path)
    assert document.title == "Fernwärme in Köln"
    assert "Bürgerbeteiligung" in document.text and "Förderung" in document.text


@pytest.mark.parametrize(("content", "reason"), [
    (b"\x00" * 4096, "binary content: the file holds NUL characters"),
    (random.Random(7).randbytes(8192), "binary content"),
    (b"%\x01\x02\x03\x04 text \x05\x06\x07\x08\x0e\x0f" * 100, "binary content"),
])
def test_binary_content_named_as_text_is_skipped(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "not-text.md"
    path.write_bytes(content)
    with pytest.raises(ExtractionError, match=reason):
        extract(path)


def test_text_over_the_limit_is_skipped_with_the_limit_named(tmp_path: Path):
    path = tmp_path / "long.txt"
    path.write_text(PROSE * 100, encoding="utf-8")
    with pytest.raises(ExtractionError, match=r"text is 7,000 characters long; the limit is 1,000 \(NZC_MAX_TEXT_CHARS\)"):
        extract(path, max_text_chars=1_000)


def test_a_zip_named_pdf_is_not_a_pdf(tmp_path: Path):
    path = tmp_path / "archive.pdf"
    _zip_named_pdf(path)
    with pytest.raises(ExtractionError, match=r"not a PDF: no %PDF- header .* \(it is a ZIP archive\)"):
        extract(path)


# --- de-hyphenation (item 6) ---------------------------------------------------------------------------------

def test_hyphen_repair_joins_words_and_keeps_compounds():
    pages = ["The self-consumption of energy\nrose as the infra-\nstructure grew.", "More self-\nconsumption."]
    compounds = hyphenated_compounds(pages)
    assert join_hyphenated(pages[0], compounds) == "The self-consumption of energy\nrose as the infrastructure grew."
    assert join_hyphenated(pages[1], compounds) == "More self-consumption."
    assert join_hyphenated("Emilia-\nRomagna", compounds) == "Emilia-Romagna"


def _repair_seconds(page_count: int) -> float:
    page = "\n".join(f"line {n} of the report on infra-\nstructure and self-consumption" for n in range(30))
    pages = [page] * page_count
    best = float("inf")
    for _ in range(3):
        # CPU time of this process: a busy machine (or the other test worker) preempting it does not count
        started = time.process_time()
        compounds = hyphenated_compounds(pages)
        for text in pages:
            join_hyphenated(text, compounds)
        best = min(best, time.process_time() - started)
    return best


def test_hyphen_repair_is_linear_in_the_page_count():
    small, large = _repair_seconds(100), _repair_seconds(800)
    # 8x the pages: linear work takes about 8x as long, the old per-page scan of the whole document 64x
    assert large < 20 * small, (small, large)


# --- per-file time and memory limits (item 5; the worker: tests/integration/test_extract_isolation.py) ---------

def test_limits_come_from_the_settings():
    from nzc_knowledge.settings import Settings

    limits = ExtractionLimits.from_settings(Settings(_env_file=None, extract_timeout_s=5, extract_max_mb=512))
    assert (limits.timeout_s, limits.max_mb) == (5, 512)
    defaults = ExtractionLimits.from_settings(Settings(_env_file=None))
    assert (defaults.timeout_s, defaults.max_mb, defaults.max_text_chars) == (60, 1024, 3_000_000)


# --- nothing outside the source folder (item 7) ----------------------------------------------------------------

def test_links_out_of_the_folder_are_skipped_and_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "content"
    folder.mkdir()
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nnot for the index", encoding="utf-8")
    (folder / "doc.md").write_text(f"# Doc\n\n{PROSE}", encoding="utf-8")
    (folder / "leak.md").symlink_to(secret)
    (folder / "alias.md").symlink_to(folder / "doc.md")  # a link that stays inside is fine
    (folder / "escape").symlink_to(tmp_path, target_is_directory=True)
    (folder / "manifest.jsonl").write_text('{"id": "leak", "file": "leak.md"}\n', encoding="utf-8")
    read: list[Path] = []
    original = sources.sha256_file
    monkeypatch.setattr(sources, "sha256_file", lambda path: read.append(Path(path)) or original(path))

    files, errors, skipped = discover(folder)

    assert sorted(source.relative for source in files) == ["alias.md", "doc.md"]
    assert all(source.path.is_relative_to(folder.resolve()) for source in files)
    assert {item.file: item.reason for item in skipped} == {"escape": OUTSIDE_LINK, "leak.md": OUTSIDE_LINK}
    assert errors == ["manifest.jsonl:1: file 'leak.md' points outside the source folder; line skipped"]
    assert read and all(path.resolve().is_relative_to(folder.resolve()) for path in read)


def test_names_with_control_characters_and_oversized_files_are_skipped(tmp_path: Path):
    (tmp_path / "bell\x07\x1b[31m.md").write_text(f"# Bell\n\n{PROSE}", encoding="utf-8")
    (tmp_path / "big.txt").write_text("x" * 5_000, encoding="utf-8")
    (tmp_path / "ok.md").write_text(f"# Ok\n\n{PROSE}", encoding="utf-8")
    files, _, skipped = discover(tmp_path, max_file_bytes=1_000)
    assert [source.relative for source in files] == ["ok.md"]
    reasons = {item.file: item.reason for item in skipped}
    assert reasons == {
        "bell\\x07\\x1b[31m.md": "the file name holds control characters or undecodable bytes; rename the file",
        "big.txt": "file is 5,000 bytes; the limit is 1,000 (NZC_MAX_FILE_BYTES)",
    }


# --- http(s)-only urls (item 4) ----------------------------------------------------------------------------------

def test_a_script_url_in_the_manifest_is_reported_with_its_line(tmp_path: Path):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(line) for line in [
        {"id": "a", "file": "a.md", "url": "https://example.org/a"},
        {"id": "b", "file": "b.md", "url": "javascript:alert(document.cookie)"},
        {"id": "c", "file": "c.md", "url": "data:text/html,<script>alert(1)</script>"},
        {"id": "d", "file": "d.md", "url": "HTTPS://Example.org/d "},
    ]) + "\n", encoding="utf-8")
    result = read_manifest(manifest, tmp_path)
    assert [entry.id for entry in result.entries.values()] == ["a", "d"]
    assert [entry.fields["url"] for entry in result.entries.values()] == ["https://example.org/a", "HTTPS://Example.org/d"]
    assert result.errors == [
        "manifest.jsonl:2: url 'javascript:alert(document.cookie)' is not an http(s) address; line skipped",
        "manifest.jsonl:3: url 'data:text/html,<script>alert(1)</script>' is not an http(s) address; line skipped",
    ]


def test_an_upload_with_a_script_url_is_refused(tmp_path: Path):
    with pytest.raises(InvalidParameter, match="is not an http"):
        store_upload(tmp_path, "a.md", io.BytesIO(b"# A\n\ntext"), {"url": "javascript:alert(1)"}, 1_000)
    assert not (tmp_path / UPLOAD_FOLDER / "a.md").exists()


# --- upload id conflicts (item 8) --------------------------------------------------------------------------------

def _manifest_lines(source: Path) -> list[dict]:
    text = (source / UPLOAD_FOLDER / "manifest.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_an_upload_reusing_another_files_id_is_a_conflict(tmp_path: Path):
    store_upload(tmp_path, "first.md", io.BytesIO(b"# First\n\none"), {"id": "shared", "city": "Milan"}, 1_000)
    with pytest.raises(Conflict, match=r"id 'shared' is already used by uploads/first.md; .* replace=true"):
        store_upload(tmp_path, "second.md", io.BytesIO(b"# Second\n\ntwo"), {"id": "shared"}, 1_000)
    assert not (tmp_path / UPLOAD_FOLDER / "second.md").exists()
    assert _manifest_lines(tmp_path) == [{"id": "shared", "file": "first.md", "city": "Milan"}]


def test_replace_removes_the_older_file_with_its_line(tmp_path: Path):
    store_upload(tmp_path, "first.md", io.BytesIO(b"# First\n\none"), {"id": "shared"}, 1_000)
    store_upload(tmp_path, "other.md", io.BytesIO(b"# Other\n\nthree"), {"id": "other"}, 1_000)
    store_upload(tmp_path, "second.md", io.BytesIO(b"# Second\n\ntwo"), {"id": "shared"}, 1_000, replace=True)
    folder = tmp_path / UPLOAD_FOLDER
    assert not (folder / "first.md").exists() and (folder / "second.md").exists()
    assert _manifest_lines(tmp_path) == [{"id": "other", "file": "other.md"}, {"id": "shared", "file": "second.md"}]


def test_an_upload_reusing_a_curated_id_is_a_conflict(tmp_path: Path):
    (tmp_path / "doc.md").write_text("# Doc\n\ntext", encoding="utf-8")
    (tmp_path / "manifest.jsonl").write_text('{"id": "curated", "file": "doc.md"}\n', encoding="utf-8")
    with pytest.raises(Conflict, match=r"id 'curated' is already used by manifest.jsonl line 1 \(doc.md\)"):
        store_upload(tmp_path, "new.md", io.BytesIO(b"# New\n\ntext"), {"id": "curated"}, 1_000, replace=True)
    assert not (tmp_path / UPLOAD_FOLDER / "new.md").exists()


def test_ingest_flags_override_the_extraction_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from click.testing import CliRunner

    from nzc_knowledge import cli, encoders
    from nzc_knowledge.ingest import build

    seen = {}

    def fake_build(source_dir, index_dir, **options):
        seen.update(options)
        raise ExtractionError("stop here")

    monkeypatch.setattr(build, "build_snapshot", fake_build)
    monkeypatch.setattr(encoders, "load_encoder", lambda **options: "encoder")  # the flags are the point, not a model
    monkeypatch.setenv("NZC_EXTRACT_MAX_MB", "700")
    result = CliRunner().invoke(cli.main, ["ingest", str(tmp_path), "--index-dir", str(tmp_path / "i"),
                                           "--extract-timeout", "7.5", "--quiet"])
    assert "stop here" in result.output
    assert (seen["settings"].limits.timeout_s, seen["settings"].limits.max_mb) == (7.5, 700)
    refused = CliRunner().invoke(cli.main, ["ingest", str(tmp_path), "--extract-max-mb", "10"])
    assert refused.exit_code == 2 and "--extract-max-mb" in refused.output
