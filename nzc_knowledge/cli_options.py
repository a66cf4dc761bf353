"""Options and error handling shared by every `nzc` command (imports only click, so `nzc --help` stays fast)."""

from __future__ import annotations

import functools
from pathlib import Path

import click


def index_dir_option(command):
    """--index-dir, defaulting to NZC_INDEX_DIR (or indexes/); several indexes can live side by side."""

    @click.option(
        "--index-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Index folder [default: $NZC_INDEX_DIR or indexes/]",
    )
    @functools.wraps(command)
    def wrapper(*args, index_dir: Path | None, **kwargs):
        if index_dir is None:
            index_dir = load_settings().index_dir
        return command(*args, index_dir=index_dir, **kwargs)

    return wrapper


def load_settings(**overrides):
    """Settings from NZC_* variables and flags; a bad value is one clear line naming the variable, not a traceback."""
    from pydantic import ValidationError

    from nzc_knowledge.settings import Settings

    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise click.ClickException(settings_error_message(error)) from error


def settings_error_message(error) -> str:
    """'multilingual_encoder (NZC_MULTILINGUAL_ENCODER): unknown ...' for each invalid setting of a ValidationError."""
    problems = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{name} (NZC_{name.upper()}): {message}")
    return "invalid setting: " + "; ".join(problems)


def user_errors(command):
    """The engine's domain errors (`NZCError`) become one clear line and exit code 1 (ClickException), not a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from nzc_knowledge.errors import NZCError

        try:
            return command(*args, **kwargs)
        except NZCError as error:
            raise click.ClickException(error.message) from error

    return wrapper
