"""One error hierarchy: an error raised where it is defined today maps to its documented status in the API and to one
clear line in the CLI (exit code 1, no traceback); the CLI and the API catch `NZCError`, nothing module-specific."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nzc_knowledge import errors
from nzc_knowledge.api.app import register_error_handlers
from nzc_knowledge.api.deps import admin_caller
from nzc_knowledge.cli import main
from nzc_knowledge.cli_options import user_errors
from nzc_knowledge.eval.formats import read_beir, read_queries
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.index.store import CURRENT, SnapshotStore
from nzc_knowledge.ingest.extract import extract
from nzc_knowledge.ingest.train_tagger import load_passages
from nzc_knowledge.ingest.uploads import store_upload
from nzc_knowledge.recommend.scorer import PeerWeights
from nzc_knowledge.settings import Settings

PACKAGE = Path(__file__).resolve().parents[2] / "nzc_knowledge"


def _empty_file(tmp: Path) -> None:
    (tmp / "empty.txt").write_bytes(b"")
    extract(tmp / "empty.txt")


def _oversized_upload(tmp: Path) -> None:
    store_upload(tmp, "note.txt", io.BytesIO(b"x" * 100), {}, max_bytes=10)


def _bad_queries(tmp: Path) -> None:
    (tmp / "queries.jsonl").write_text('{"_id": "q1", "text": "heat"}\nnot json\n', encoding="utf-8")
    read_queries(tmp / "queries.jsonl")


def _bad_passages(tmp: Path) -> None:
    (tmp / "passages.jsonl").write_text('{"id": "p1"}\n', encoding="utf-8")
    load_passages(tmp / "passages.jsonl")


def _no_beir_folder(tmp: Path) -> None:
    read_beir(tmp / "missing")


def _admin_without_token(tmp: Path) -> None:
    admin_caller(None, Settings(_env_file=None, index_dir=tmp, admin_token="secret"), b"key")


def _incomplete_snapshot(tmp: Path) -> None:
    Snapshot.load(tmp)


def _unreadable_pointer(tmp: Path) -> None:
    (tmp / CURRENT).write_text("../../etc\n", encoding="utf-8")
    SnapshotStore(tmp).read_pointer()


def _bad_weight(tmp: Path) -> None:
    PeerWeights(text=2.0)


# (code that raises it where it is defined or raised, its class, the HTTP status, part of the message)
CASES = [
    (_empty_file, errors.ExtractionError, 422, "empty file (0 bytes)"),
    (_oversized_upload, errors.PayloadTooLarge, 413, "larger than the limit of 10 bytes"),
    (_bad_queries, errors.FormatError, 422, "queries.jsonl:2: not valid JSON"),
    (_bad_passages, errors.FormatError, 422, "passages.jsonl:1: not a labelled passage"),
    (_no_beir_folder, errors.NotFound, 404, "is not a BEIR folder"),
    (_admin_without_token, errors.AdminDenied, 401, "missing bearer token"),
    (_incomplete_snapshot, errors.BrokenSnapshot, 409, "is not a complete snapshot"),
    (_unreadable_pointer, errors.UnreadablePointer, 503, "does not hold a snapshot id"),
    (_bad_weight, errors.InvalidParameter, 422, "peer weight text must be between 0 and 1"),
]
IDS = [case[1].__name__ + case[0].__name__ for case in CASES]


@pytest.mark.parametrize(("raise_it", "error_class", "status", "message"), CASES, ids=IDS)
def test_the_error_is_a_domain_error_and_the_api_answers_its_status(tmp_path, raise_it, error_class, status, message):
    with pytest.raises(error_class) as raised:
        raise_it(tmp_path)
    assert isinstance(raised.value, errors.NZCError) and raised.value.status == status

    app = FastAPI()
    register_error_handlers(app)

    @app.get("/fail")
    def fail() -> None:
        raise_it(tmp_path)

    response = TestClient(app).get("/fail")
    assert response.status_code == status
    assert message in response.json()["detail"]


@pytest.mark.parametrize(("raise_it", "error_class", "status", "message"), CASES, ids=IDS)
def test_the_cli_prints_the_message_and_exits_1_without_a_traceback(tmp_path, raise_it, error_class, status, message):
    @click.command()
    @user_errors
    def command() -> None:
        raise_it(tmp_path)

    result = CliRunner().invoke(command, [])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and message in result.output
    assert "Traceback" not in result.output


def test_real_commands_answer_a_domain_error_in_one_line(tmp_path):
    (tmp_path / "passages.jsonl").write_text('{"id": "p1"}\n', encoding="utf-8")
    runner = CliRunner()
    for args, message in [
        (["search", "heat", "--index-dir", str(tmp_path / "empty")], "no index snapshot in"),
        (["eval", "tags", "--passages", str(tmp_path / "passages.jsonl"), "--index-dir", str(tmp_path / "empty")],
         "passages.jsonl:1: not a labelled passage"),
        (["bench", "scale", "--chunks", "1000", "--index-dir", str(tmp_path / "synthetic"), "--source-index",
          str(tmp_path / "empty")], "no index snapshot in"),
    ]:
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert message in result.output and "Traceback" not in result.output


def test_every_error_class_of_the_package_lives_in_errors_py():
    """Control-flow signals that never reach a user as an exception (a cancelled job, a worker over its memory, a
    reindex worker's failure carried to the job runner, which records it as the job's error) are the exceptions."""
    signals = {"JobCancelled", "MemoryLimitExceeded", "BuildFailed"}
    elsewhere = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name not in signals:
                bases = {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
                if bases & {"Exception", "ValueError", "RuntimeError", "NZCError"} or any(
                        isinstance(getattr(errors, base, None), type) and issubclass(getattr(errors, base), Exception)
                        for base in bases):
                    elsewhere.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert elsewhere == []


def test_the_cli_and_the_api_catch_only_the_base_class():
    for path in [PACKAGE / "cli_options.py", PACKAGE / "cli.py", *PACKAGE.glob("*/cli.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = ast.unparse(node.type)
                assert caught in {"NZCError", "ValidationError"}, f"{path.name} catches {caught}"
