"""`mnemo categorize`: stdin to JSON Lines, `--eval FILE`, and bad input exits 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mnemo.categorize import load_model
from mnemo.categorize.command import categorize
from mnemo.categorize.evaluate import read_labelled, score
from tests.categorize.conftest import DATA

app = typer.Typer()
app.command()(categorize)
runner = CliRunner()


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_plain_lines_give_json_lines_in_order() -> None:
    memories = ["User is vegetarian", "User swam the English Channel", "  likes jazz  "]
    result = runner.invoke(app, [], input="\n".join(memories[:2]) + "\n\n" + memories[2] + "\n")
    assert result.exit_code == 0, result.stderr
    records = _lines(result.stdout)
    assert [r["content"] for r in records] == [
        "User is vegetarian",
        "User swam the English Channel",
        "likes jazz",
    ]
    model = load_model()
    for record in records:
        assert set(record) == {"content", "category", "confidence"}
        expected = model.predict(str(record["content"]))
        assert record["category"] == expected.category
        assert record["confidence"] == expected.confidence
    assert records[0]["category"] == "system"
    assert records[1]["category"] == "interesting"


def test_json_lines_with_content_are_read_and_other_fields_ignored() -> None:
    rows = [
        {"content": "User's daughter Emma is seven", "id": 1},
        {"content": "User once played poker with a world champion", "category": "system"},
    ]
    text = "\n".join(json.dumps(r) for r in rows) + "\nUser drives a Toyota\n"
    result = runner.invoke(app, [], input=text)
    assert result.exit_code == 0, result.stderr
    records = _lines(result.stdout)
    assert [r["content"] for r in records] == [
        "User's daughter Emma is seven",
        "User once played poker with a world champion",
        "User drives a Toyota",
    ]
    assert [r["category"] for r in records] == ["system", "interesting", "system"]


def test_empty_input_prints_nothing() -> None:
    result = runner.invoke(app, [], input="")
    assert result.exit_code == 0
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"content": "unterminated', "invalid JSON"),
        ('{"text": "no content field"}', "missing or empty 'content'"),
        ('{"content": 42}', "missing or empty 'content'"),
        ('{"content": "   "}', "missing or empty 'content'"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_output(line: str, message: str) -> None:
    result = runner.invoke(app, [], input="User is vegetarian\n" + line + "\n")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "<stdin>:2" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_eval_prints_accuracy_per_class_scores_and_confusion_matrix() -> None:
    path = DATA / "test.jsonl"
    result = runner.invoke(app, ["--eval", str(path)])
    assert result.exit_code == 0, result.stderr
    examples = read_labelled(path)
    model = load_model()
    report = score([c for _, c in examples], [model.predict(t).category for t, _ in examples])
    out = result.stdout
    assert f"accuracy   {report.accuracy:.4f}  ({report.correct}/{report.total})" in out
    for label in ("system", "interesting"):
        s = report.per_class(label)
        row = re.search(rf"^{label}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)$", out, re.M)
        assert row is not None, out
        assert [float(row[1]), float(row[2]), float(row[3]), int(row[4])] == [
            round(s.precision, 4),
            round(s.recall, 4),
            round(s.f1, 4),
            s.support,
        ]
    assert "confusion matrix" in out
    matrix = re.findall(r"^(system|interesting)\s+(\d+)\s+(\d+)$", out, re.M)
    assert [(t, int(a), int(b)) for t, a, b in matrix] == [
        (t, report.confusion[t]["system"], report.confusion[t]["interesting"])
        for t in ("system", "interesting")
    ]


def test_eval_counts_a_wrong_label_as_an_error(tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text(
        json.dumps({"content": "User is vegetarian", "category": "system"})
        + "\n"
        + json.dumps({"content": "User climbed Everest", "category": "system"})
        + "\n"
    )
    result = runner.invoke(app, ["--eval", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "accuracy   0.5000  (1/2)" in result.stdout


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"content": "User is vegetarian", "category": "manual"}\n', "'category' must be"),
        ('{"content": "User is vegetarian"}\n', "'category' must be"),
        ("not json\n", "invalid JSON"),
        ("", "holds no labelled memories"),
    ],
)
def test_eval_bad_file_exits_2(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(body)
    result = runner.invoke(app, ["--eval", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_eval_missing_file_exits_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--eval", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 3
    assert "cannot read" in result.stderr
