"""Segmented snapshots (issue 15): an incremental reindex adds a segment and deletion marks, merges fold them into
one; after every step search results equal those of a full rebuild of the same files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from nzc_knowledge.errors import OutdatedSnapshot
from nzc_knowledge.index.lexical import LexicalIndex, Postings
from nzc_knowledge.index.merge import merge_segments
from nzc_knowledge.index.rows import SegmentRows
from nzc_knowledge.index.snapshot import MANIFEST, Snapshot
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.ingest.pipeline import IngestPipeline, IngestSettings
from nzc_knowledge.search.service import SearchService
from nzc_knowledge.text.analysis import lexical_terms

from hash_encoder import HashEncoder

QUERIES = ["district heating network", "bus fleet electrification", "solar panels on school roofs",
           "tree planting against heat", "glacier monitoring"]
FILES = {
    "heating.md": "# District heating\n\nThe district heating network of Aarhus uses waste heat from industry.\n\n"
                  "Heat pumps feed the network in winter and the pipes were renewed in 2019.",
    "buses.md": "# Electric buses\n\nThe bus fleet electrification replaced diesel buses with battery buses.\n\n"
                "Charging depots were built at the end of each line.",
    "solar.md": "# Solar schools\n\nSolar panels on school roofs produce power for classrooms.\n\n"
                "Pupils monitor the panels and learn about energy.",
    "trees.md": "# Urban trees\n\nTree planting cools streets during summer heat waves.\n\n"
                "Parks and green roofs hold rain water after storms.",
}


def _resource_ids(resources):
    return {"ids": [resource.id for resource in resources]}


def _ingest(source: Path, index: Path, full: bool = False):
    pipeline = IngestPipeline(HashEncoder(), IngestSettings(tag_resources=False, keep_snapshots=20),
                              extensions={"listing": _resource_ids})
    store = SnapshotStore(index)
    with store.exclusive():
        return pipeline.run(source, store, full=full)


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for existing in folder.glob("*.md"):
        if existing.name not in files:
            existing.unlink()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def _current(index: Path) -> Snapshot:
    return Snapshot.load(SnapshotStore(index).current_path())


def _ranked(pairs) -> list[tuple[str, float]]:
    """(id, score) best first, scores rounded; ids of equal rounded scores in id order (row order may differ)."""
    return sorted(((item, round(float(score), 4)) for item, score in pairs), key=lambda pair: (-pair[1], pair[0]))


def _results(snapshot: Snapshot) -> dict[str, object]:
    """What a search returns, independent of row numbers: resources and passages by id, scores rounded."""
    service = SearchService(snapshot, HashEncoder())
    encoder = HashEncoder()
    found: dict[str, object] = {}
    for query in QUERIES:
        page = service.search(query, limit=10)
        found[f"hybrid {query}"] = _ranked((hit.resource.id, hit.score) for hit in page.hits)
        found[f"facets {query}"] = page.facets
        ids, scores = snapshot.lexical.search(lexical_terms(query, "en"), 10)
        assert query == "glacier monitoring" or len(ids), "every query but one matches some passage"
        found[f"bm25 {query}"] = _ranked((snapshot.chunk(row).id, score) for row, score in zip(ids, scores))
        ids, scores = snapshot.dense.search(encoder.encode_queries([query])[0], 10)
        found[f"dense {query}"] = _ranked((snapshot.chunk(row).id, score) for row, score in zip(ids, scores))
    found["resources"] = [resource.id for resource in snapshot.resources]
    found["chunks"] = sorted(chunk.id for chunk in snapshot.chunks)
    found["vocabulary"] = snapshot.vocabulary
    found["extras"] = snapshot.extras
    found["browse"] = [(hit.resource.id) for hit in service.search("", limit=50).hits]
    return found


def _assert_same_as_full_rebuild(source: Path, index: Path, tmp_path: Path) -> Snapshot:
    rebuilt = tmp_path / f"full-{len(list(tmp_path.iterdir()))}"
    _ingest(source, rebuilt, full=True)
    incremental, full = _current(index), _current(rebuilt)
    assert _results(incremental) == _results(full)
    return incremental


@pytest.fixture
def corpus(tmp_path):
    source = tmp_path / "source"
    _write(source, FILES)
    index = tmp_path / "index"
    report = _ingest(source, index)
    assert len(_current(index).segments) == 1  # the first build writes one segment
    return source, index, report


def test_segment_lifecycle_matches_a_full_rebuild(corpus, tmp_path):
    source, index, _ = corpus
    files = dict(FILES)

    files["glacier.md"] = "# Glaciers\n\nGlacier monitoring measures the ice melting every summer heat wave."
    _write(source, files)
    report = _ingest(source, index)
    assert report.embedded_chunks == len(_current(index).segments[-1].passage_resource)  # only the new file
    added = _assert_same_as_full_rebuild(source, index, tmp_path)
    assert len(added.segments) == 2

    files["buses.md"] = "# Electric buses\n\nThe bus fleet now runs on hydrogen fuel cells and solar panels."
    _write(source, files)
    _ingest(source, index)
    changed = _assert_same_as_full_rebuild(source, index, tmp_path)
    assert len(changed.segments) == 3 and changed.rows.deleted_count() > 0

    heating = next(resource.id for resource in changed.resources if resource.file == "heating.md")
    del files["heating.md"]
    _write(source, files)
    _ingest(source, index)
    deleted = _assert_same_as_full_rebuild(source, index, tmp_path)
    assert deleted.resource(heating) is None and len(deleted.resources) == 4

    merged_id = merge_segments(SnapshotStore(index), force=True, keep_snapshots=20)
    merged = _assert_same_as_full_rebuild(source, index, tmp_path)
    assert merged.id == merged_id and len(merged.segments) == 1 and merged.rows.deleted_count() == 0


def test_deletion_marks_hide_a_removed_file_everywhere(corpus):
    source, index, _ = corpus
    before = _current(index)
    heating = next(resource for resource in before.resources if resource.file == "heating.md")
    _write(source, {name: text for name, text in FILES.items() if name != "heating.md"})
    _ingest(source, index)
    after = _current(index)
    assert after.rows.deleted_count() == len(before.resource_chunks[before.resource_index[heating.id]])
    assert after.resource(heating.id) is None
    assert len(after.chunks) == sum(len(rows) for rows in after.resource_chunks)
    assert all(chunk.resource_id != heating.id for chunk in after.chunks)
    ids, _ = after.lexical.search(["aarhus"], 10)
    assert len(ids) == 0 and "aarhus" not in after.lexical.vocabulary() and "Aarhus" not in after.vocabulary
    ids, _ = after.dense.search(HashEncoder().encode_queries(["district heating network Aarhus"])[0], 100)
    assert all(after.chunk(row).resource_id != heating.id for row in ids)
    page = SearchService(after, HashEncoder()).search("", limit=50)
    assert heating.id not in {hit.resource.id for hit in page.hits} and page.total == len(after.resources)


def test_one_changed_file_shares_the_other_segments_by_hard_link(corpus):
    source, index, _ = corpus
    store = SnapshotStore(index)
    first = store.current_id()
    _write(source, dict(FILES, **{"trees.md": FILES["trees.md"] + "\n\nNew: street trees get drip irrigation."}))
    _ingest(source, index)
    second = store.current_id()
    manifest = json.loads((store.path(second) / MANIFEST).read_text())
    shared = manifest["segments"][0]["id"]
    assert shared == json.loads((store.path(first) / MANIFEST).read_text())["segments"][0]["id"]
    for name in ("dense/faiss.index", "texts.sqlite", "bm25/rows.npy"):
        old, new = store.path(first) / "segments" / shared / name, store.path(second) / "segments" / shared / name
        assert os.stat(old).st_ino == os.stat(new).st_ino  # the same file, not a copy
    assert manifest["segments"][0]["deleted"] > 0 and manifest["segments"][1]["deleted"] == 0
    store.verify(second)


def test_a_served_version_stays_intact_while_newer_ones_are_published_merged_and_pruned(corpus, tmp_path):
    source, index, _ = corpus
    store = SnapshotStore(index)
    _write(source, dict(FILES, **{"glacier.md": "# Glaciers\n\nGlacier monitoring of the ice."}))
    _ingest(source, index)
    served_id = store.current_id()
    served = Snapshot.load(store.path(served_id))
    expected = _results(served)
    _write(source, {name: text for name, text in FILES.items() if name != "solar.md"})
    _ingest(source, index)
    merged_id = merge_segments(store, force=True, keep_snapshots=20)
    assert merged_id is not None and store.current_id() == merged_id
    deleted = store.prune(keep=3)  # the first build goes; the served version (third newest) stays
    assert deleted and served_id not in deleted
    assert _results(served) == expected
    store.verify(served_id)  # every segment file it lists is still there (hard links outlive the pruned version)
    assert _results(Snapshot.load(store.path(served_id))) == expected


def test_rollback_after_a_merge_serves_the_segmented_version_with_the_same_results(corpus):
    source, index, _ = corpus
    store = SnapshotStore(index)
    _write(source, dict(FILES, **{"glacier.md": "# Glaciers\n\nGlacier monitoring of the ice."}))
    _ingest(source, index)
    segmented_id = store.current_id()
    merge_segments(store, force=True, keep_snapshots=20)
    merged = _results(_current(index))
    assert store.rollback() == segmented_id
    rolled_back = _current(index)
    assert len(rolled_back.segments) == 2 and _results(rolled_back) == merged


def test_merging_waits_until_there_are_more_segments_than_the_setting(corpus):
    source, index, _ = corpus
    store = SnapshotStore(index)
    _write(source, dict(FILES, **{"glacier.md": "# Glaciers\n\nGlacier monitoring of the ice."}))
    _ingest(source, index)
    assert merge_segments(store, merge_at=2) is None  # two segments: not more than 2
    assert merge_segments(store, merge_at=1) is not None
    assert len(_current(index).segments) == 1


def test_a_format_2_snapshot_is_refused_and_the_next_ingest_rebuilds_it(corpus):
    source, index, _ = corpus
    store = SnapshotStore(index)
    path = store.path(store.current_id())
    manifest = json.loads((path / MANIFEST).read_text())
    (path / MANIFEST).write_text(json.dumps(dict(manifest, format_version=2)))
    with pytest.raises(OutdatedSnapshot, match="rebuild the index with `nzc ingest`"):
        Snapshot.load(path)
    _write(source, dict(FILES, **{"glacier.md": "# Glaciers\n\nGlacier monitoring of the ice."}))
    report = _ingest(source, index)
    assert any("full rebuild" in note for note in report.notes)
    assert len(_current(index).segments) == 1


def test_bm25_over_segments_with_deletions_equals_one_index_over_the_live_passages():
    rng = np.random.default_rng(3)
    words = [f"w{number}" for number in range(300)]
    documents = [[words[int(index) % 300] for index in rng.zipf(1.4, size=rng.integers(3, 40))] for _ in range(600)]
    first, second = documents[:400], documents[400:]
    deleted = [np.sort(rng.choice(400, 60, replace=False)), np.sort(rng.choice(200, 20, replace=False))]
    live = [document for row, document in enumerate(first) if row not in set(deleted[0].tolist())]
    live += [document for row, document in enumerate(second) if row not in set(deleted[1].tolist())]
    segmented = LexicalIndex([Postings.build(first), Postings.build(second)], SegmentRows([400, 200], deleted))
    whole = LexicalIndex.build(live)
    assert segmented.size == whole.size == len(live)
    assert segmented.vocabulary() == whole.vocabulary()
    for query in (["w1"], ["w2", "w7", "w7"], ["w250", "w3"], ["missing"]):
        assert np.allclose(segmented.scores(query), whole.scores(query), atol=1e-6)
    merged = LexicalIndex([Postings.merge(segmented.parts, segmented.rows.live)])
    assert np.allclose(merged.scores(["w2", "w9"]), whole.scores(["w2", "w9"]), atol=1e-6)


def test_the_bm25_weight_matrix_scores_a_query_of_term_counts_like_the_index_itself():
    rng = np.random.default_rng(5)
    words = [f"w{number}" for number in range(80)]
    documents = [[words[int(index) % 80] for index in rng.zipf(1.5, size=rng.integers(2, 25))] for _ in range(120)]
    deleted = [np.array([0, 5, 17]), np.array([2])]
    segmented = LexicalIndex([Postings.build(documents[:90]), Postings.build(documents[90:])], SegmentRows([90, 30], deleted))
    matrix, columns = segmented.weight_matrix(), segmented.term_ids()
    assert matrix.shape == (segmented.size, len(columns))
    for query in (["w1"], ["w2", "w7", "w7"], ["w40", "w3"]):
        counts = np.zeros(len(columns), dtype=np.float32)
        for term in query:
            counts[columns[term]] += 1
        assert np.allclose(matrix @ counts, segmented.scores(query), atol=1e-5)


def test_segment_rows_map_global_rows_to_live_local_rows_and_back():
    rows = SegmentRows([4, 3], [np.array([1, 2]), np.array([], dtype=np.int64)])
    assert rows.size == 5
    assert rows.to_global(0, np.array([0, 1, 3])).tolist() == [0, -1, 1]
    assert rows.to_global(1, np.array([0, 2])).tolist() == [2, 4]
    assert [(segment, positions.tolist(), local.tolist()) for segment, positions, local in rows.split([4, 0, 1])] == [
        (0, [1, 2], [0, 3]), (1, [0], [2])]
    assert rows.local_allowed(0, np.array([1, 3])).tolist() == [3]
    assert rows.local_allowed(0, None).tolist() == [0, 3] and rows.local_allowed(1, None) is None
    with pytest.raises(IndexError):
        list(rows.split([5]))


def test_bm25_scores_equal_those_of_bm25s_lucene_on_one_segment():
    import bm25s

    rng = np.random.default_rng(5)
    words = [f"w{number}" for number in range(200)]
    documents = [[words[int(index) % 200] for index in rng.zipf(1.3, size=rng.integers(2, 50))] for _ in range(500)]
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    reference.index(documents, show_progress=False)
    ours = LexicalIndex.build(documents)
    for query in (["w1"], ["w4", "w4", "w90"], ["w150", "w2"]):
        assert np.allclose(ours.scores(query), reference.get_scores(query), atol=1e-5)


def test_the_scale_bench_measures_a_changed_file_published_as_one_small_segment(corpus):
    from nzc_knowledge.bench.scale import change_to_searchable

    _, index, _ = corpus
    store = SnapshotStore(index)
    before = store.current_id()
    change = change_to_searchable(store)
    assert change["found"] and change["passages_changed"] == change["passages_marked_deleted"] > 0
    assert change["bytes_shared_by_hard_link"] > 0 and store.current_id() == change["snapshot_id"] != before
    assert change["segments_reused"] == 1 and change["segments_loaded"] == 1
    assert len(_current(index).segments) == 2


def test_the_scale_bench_swaps_a_server_engine_and_restores_the_measured_version(corpus):
    from nzc_knowledge.api.engine import EngineHolder
    from nzc_knowledge.bench.scale import change_to_searchable
    from nzc_knowledge.encoders import Encoders

    _, index, _ = corpus
    store = SnapshotStore(index)
    before = store.current_id()
    change = change_to_searchable(store, restore=True, holder=EngineHolder(index, Encoders(preloaded=[HashEncoder()])))
    assert change["found"] and change["through"] == "the server's engine holder"
    assert change["segments_reused"] == 1 and change["segments_loaded"] == 1
    assert store.current_id() == before and not store.path(change["snapshot_id"]).exists()


def test_a_new_version_takes_over_the_loaded_segments_it_shares_by_hard_link(corpus, tmp_path):
    source, index, _ = corpus
    serving = _current(index)
    _write(source, dict(FILES, **{"glacier.md": "# Glaciers\n\nGlacier monitoring measures the ice every summer."}))
    _ingest(source, index)
    store = SnapshotStore(index)
    swapped = Snapshot.load(store.current_path(), previous=serving)
    old, new = serving.segments[0], swapped.segments[0]
    assert new.dense is old.dense and new.postings is old.postings and new.resources is old.resources
    assert new.folder == store.current_path() / "segments" / new.folder.name  # texts read through the new links
    assert _results(swapped) == _results(_current(index))
    # The version first loaded may be pruned while the new one serves: texts still read.
    for snapshot_id in store.ids():
        if snapshot_id != store.current_id():
            import shutil

            shutil.rmtree(store.path(snapshot_id))
    new.texts.close()
    assert swapped.chunk(0).text == _current(index).chunk(0).text


def test_a_segment_rewritten_under_the_same_id_is_read_again(corpus):
    _, index, _ = corpus
    serving = _current(index)
    folder = SnapshotStore(index).current_path() / "segments" / serving.segments[0].folder.name
    segment_file = folder / "segment.json"
    text = segment_file.read_bytes()
    replacement = folder / "segment.json.new"
    replacement.write_bytes(text)  # written while the old file still exists, so it gets another inode
    os.replace(replacement, segment_file)  # same content, not the files the serving version read
    reloaded = Snapshot.load(SnapshotStore(index).current_path(), previous=serving)
    assert reloaded.segments[0].dense is not serving.segments[0].dense


def test_a_reindex_merges_its_segments_once_there_are_more_than_merge_at(tmp_path):
    from nzc_knowledge.ingest.build import build_snapshot

    source, index = tmp_path / "source", tmp_path / "index"
    files = dict(FILES)
    counts = []
    for step in range(3):
        files[f"extra{step}.md"] = f"# Extra {step}\n\nGlacier monitoring report number {step} about ice."
        _write(source, files)
        report = build_snapshot(source, index, encoder=HashEncoder(), multilingual=None, merge_at=2, keep_snapshots=10,
                                settings=IngestSettings(tag_resources=False), extensions={"listing": _resource_ids})
        counts.append(len(_current(index).segments))
    assert counts == [1, 2, 1]  # the third build made a third segment, then merged all three
    assert any("merged" in note for note in report.notes)
    rows = SnapshotStore(index).list()
    assert [row["segments"] for row in rows[:2]] == [1, 3] and rows[0]["current"]
    assert _results(_current(index)) == _results(Snapshot.load(SnapshotStore(index).path(rows[1]["snapshot_id"])))


def test_an_incremental_build_reports_a_new_file_that_duplicates_an_unchanged_one(corpus):
    source, index, _ = corpus
    _write(source, dict(FILES, **{"copy.md": FILES["solar.md"].replace("Solar schools", "Solar schools again")}))
    report = _ingest(source, index)
    solar = next(resource.id for resource in _current(index).resources if resource.file == "solar.md")
    copy = next(resource.id for resource in _current(index).resources if resource.file == "copy.md")
    assert {tuple(sorted((first, second))) for first, second, _ in report.near_duplicates} == {tuple(sorted((solar, copy)))}


def test_nzc_snapshots_list_shows_segments_and_deleted_passages(corpus):
    from click.testing import CliRunner

    from nzc_knowledge.cli import main

    source, index, _ = corpus
    _write(source, {name: text for name, text in FILES.items() if name != "trees.md"})
    _ingest(source, index)
    deleted = _current(index).rows.deleted_count()
    result = CliRunner().invoke(main, ["snapshots", "list", "--index-dir", str(index)])
    assert result.exit_code == 0
    current, older = result.output.splitlines()[:2]
    assert current.startswith("* ") and current.endswith(f"1 segments, {deleted} deleted") and deleted > 0
    assert older.endswith("1 segments, 0 deleted")
