"""`nzc ingest` then `nzc search` with the real model and no multilingual index."""

from __future__ import annotations

import json

from click.testing import CliRunner

from nzc_knowledge.cli import main
from nzc_knowledge.index import Snapshot, SnapshotStore


def test_ingest_without_a_multilingual_index_still_searches(tmp_path):
    source, index = tmp_path / "source", tmp_path / "index"
    source.mkdir()
    (source / "ghent-heat.md").write_text(
        "# Ghent heat network\n\nGhent connects social housing blocks to a district heating network fed by "
        "industrial waste heat from the port.\n", encoding="utf-8")
    (source / "lisbon-trees.md").write_text(
        "# Lisbon street trees\n\nLisbon plants shade trees along avenues to cool streets during heatwaves.\n",
        encoding="utf-8")

    ingested = CliRunner().invoke(main, ["ingest", str(source), "--index-dir", str(index),
                                         "--multilingual-encoder", "none", "--json"])
    assert ingested.exit_code == 0, ingested.output
    snapshot = Snapshot.load(SnapshotStore(index).current_path())
    assert snapshot.multilingual is None and not snapshot.manifest.get("multilingual_encoder")

    searched = CliRunner().invoke(main, ["search", "waste heat network", "--index-dir", str(index), "--json"])
    assert searched.exit_code == 0, searched.output
    assert json.loads(searched.stdout)["results"][0]["title"] == "Ghent heat network"
