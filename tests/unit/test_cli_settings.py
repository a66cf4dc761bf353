"""Settings reach the commands: a bad value is one clear line, and the multilingual index can be switched off."""

from __future__ import annotations


from click.testing import CliRunner

from nzc_knowledge.cli import main


def test_a_bad_setting_names_the_variable_and_the_choices(tmp_path):
    result = CliRunner().invoke(main, ["ingest", str(tmp_path), "--index-dir", str(tmp_path / "index")],
                                env={"NZC_MULTILINGUAL_ENCODER": "usem4"})
    assert result.exit_code == 1
    assert "NZC_MULTILINGUAL_ENCODER" in result.output and "'usem4'" in result.output
    assert "multilingual-e5-small" in result.output and "none" in result.output
    assert "Traceback" not in result.output
