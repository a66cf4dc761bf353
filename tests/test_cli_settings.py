"""Settings reach the commands: a bad value is one clear line, and the multilingual index can be switched off."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from nzc_knowledge.cli import main
from nzc_knowledge.index import Snapshot, SnapshotStore


def test_a_bad_setting_names_the_variable_and_the_choices(tmp_path):
    result = CliRunner().invoke(main, ["ingest", str(tmp_path), "--index-dir", str(tmp_path / "index")],
                                env={"NZC_MULTILINGUAL_ENCODER": "usem4"})
    assert result.exit_code == 1
    assert "NZC_MULTILINGUAL_ENCODER" in result.output and "'usem4'" in result.output
    assert "multilingual-e5-small" in result.output and "none" in result.output
    assert "Traceback" not in result.output


@pytest.mark.integration
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
