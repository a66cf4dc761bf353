"""The README documents every setting and every `nzc` command, so a curator can rely on it."""

from __future__ import annotations

import re
from pathlib import Path

import click

from nzc_knowledge.cli import main
from nzc_knowledge.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_settings_table():
    documented = set(re.findall(r"^\| `(NZC_[A-Z_]+)` \|", README, flags=re.MULTILINE))
    expected = {f"NZC_{name.upper()}" for name in Settings.model_fields}
    assert expected == documented


def test_every_command_is_named_in_the_readme():
    def paths(group: click.Group, prefix: str) -> list[str]:
        names = []
        for name, command in group.commands.items():
            names += paths(command, f"{prefix} {name}") if isinstance(command, click.Group) else [f"{prefix} {name}"]
        return names

    missing = [path for path in paths(main, "nzc") if path not in README]
    assert not missing, f"commands missing from README.md: {missing}"
