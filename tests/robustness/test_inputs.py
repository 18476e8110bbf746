"""Every bad input of issue 15 items 7-9 (user data files, numbers not range-checked, smaller):
each case drives ``recbench`` (``benchmark.cli.main``) and asserts the exit code, that the message
names the thing (file, line, column or key) and a fix, and that no traceback reaches the user.

Exit codes, as the CLI promises: 2 = the command line or the suite / dataset file is wrong
(nothing ran); 1 = a job failed (a bad ratings file is found when its split is built, and fails
only that dataset's jobs: error.json holds the message); argparse's own errors exit 2.
Datasets are tiny MovieLens-1M / 25M / 100K / Amazon files in ``tmp_path``; the dataset folder
is pointed there through ``benchmark.config.dataset_spec.DATASET_DIR``.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest

from benchmark.cli import main


def _good_rows(n_users: int = 8, n_items: int = 8, per_user: int = 6) -> list[str]:
    """user::item::rating::timestamp lines: every user rates 6 of 8 items, 1-5 stars."""
    rng = random.Random(0)
    rows = []
    for u in range(1, n_users + 1):
        for t, i in enumerate(rng.sample(range(1, n_items + 1), per_user)):
            rows.append(f"{u}::{i}::{rng.randint(1, 5)}::{978300000 + 10 * t + u}")
    return rows


def _movies(n: int = 8) -> str:
    return "".join(f"{i}::Movie {i} ({1990 + i})::Drama|Comedy\n" for i in range(1, n + 1))


def _users(n: int = 8) -> str:
    return "".join(f"{u}::F::25::4::0000{u}\n" for u in range(1, n + 1))


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    """A private datasets/ folder (and split cache) for this test."""
    root = tmp_path / "datasets"
    root.mkdir()
    monkeypatch.setattr("benchmark.config.dataset_spec.DATASET_DIR", root)
    monkeypatch.setattr("benchmark.runner.prepare.CACHE_DIR", tmp_path / "cache")
    return root


def ml1m(root: Path, ratings: str | bytes, toml_extra: str = "", name: str = "tiny") -> Path:
    """A MovieLens-1M-format dataset ``name``; returns its ratings file."""
    raw = root / "raw" / name
    raw.mkdir(parents=True)
    path = raw / "ratings.dat"
    path.write_bytes(ratings if isinstance(ratings, bytes) else ratings.encode("latin-1"))
    (raw / "movies.dat").write_text(_movies())
    (raw / "users.dat").write_text(_users())
    (root / f"{name}.toml").write_text(f'name = "{name}"\nloader = "ml-1m"\n'
                                       f'paths = {{ path = "raw/{name}" }}\n{toml_extra}')
    return path


def ml25m(root: Path, ratings: str, name: str = "tiny") -> Path:
    raw = root / "raw" / name
    raw.mkdir(parents=True)
    (raw / "ratings.csv").write_text(ratings)
    (raw / "movies.csv").write_text("movieId,title,genres\n" + "".join(
        f"{i},Movie {i} ({1990 + i}),Drama\n" for i in range(1, 9)))
    (root / f"{name}.toml").write_text(f'name = "{name}"\nloader = "ml-25m"\n'
                                       f'paths = {{ path = "raw/{name}" }}\n')
    return raw / "ratings.csv"


def suite_file(tmp_path: Path, body: str = "", *, datasets: str = '[[datasets]]\nname = "tiny"\n',
               models: str = '[[models]]\nname = "random"\n', head: str = "") -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(f'name = "t"\nseeds = [0]\n{head}{datasets}{models}'
                    f'[accuracy]\nks = [2]\nprotocols = ["full", "sampled"]\n'
                    f'sampled_negatives = 1\n{body}')
    return path


@pytest.fixture
def recbench(capsys, caplog):
    """Run the CLI in-process: (exit code, stderr + log text)."""
    def run(*argv: str) -> tuple[int, str]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="recbench"):
            try:
                rc = main([str(a) for a in argv])
            except SystemExit as exc:  # argparse's usage errors
                rc = exc.code
        err = capsys.readouterr().err
        text = err + "\n" + caplog.text
        assert "Traceback" not in text
        return rc, text
    return run


def run_suite(recbench, tmp_path, suite: Path, *extra: str) -> tuple[int, str]:
    return recbench("run", suite, "--out", tmp_path / "runs", "--no-progress", *extra)


def _error_json(tmp_path: Path) -> dict:
    (path,) = (tmp_path / "runs").rglob("error.json")
    return json.loads(path.read_text())


def _data_failure(recbench, tmp_path, *needles: str) -> str:
    """A bad ratings file: the dataset's job fails (exit 1) with the message in the log and in
    error.json, naming the file and the fix."""
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path))
    assert rc == 1, text
    message = _error_json(tmp_path)["message"]
    for needle in needles:
        assert needle in text and needle in message, (needle, message)
    assert "fix:" in message
    return message


# ------------------------------------------------------------------ 7. user data files
GOOD = "\n".join(_good_rows()) + "\n"


@pytest.mark.parametrize("bad_line, needles", [
    ("9::1::5", ["ratings.dat:49:", "3 field(s), expected 4", "correct or delete line 49"]),
    ("9::1::five::978300000", ["ratings.dat:49:", "column 3 (rating) is 'five', not a number"]),
    ("9::1::4::yesterday", ["ratings.dat:49:", "column 4 (timestamp) is 'yesterday'",
                            "not an integer"]),
    ("9::1::inf::978300000", ["ratings.dat:49:", "'inf', not a finite number"]),
    ("9::1::nan::978300000", ["ratings.dat:49:", "'nan', not a finite number"]),
    ("9::1::-3::978300000", ["ratings.dat:49:", "-3, outside the rating scale 1-5",
                             "rating_scale"]),
    ("9::1::50::978300000", ["ratings.dat:49:", "50, outside the rating scale 1-5"]),
    ("::1::4::978300000", ["ratings.dat:49:", "column 1 (user id) is empty"]),
], ids=["missing-column", "non-numeric-rating", "non-numeric-timestamp", "inf-rating",
        "nan-rating", "negative-rating", "out-of-scale-rating", "empty-user-id"])
def test_bad_ratings_line_names_file_line_and_column(recbench, tmp_path, data_root, bad_line,
                                                     needles):
    path = ml1m(data_root, GOOD + bad_line + "\n")
    message = _data_failure(recbench, tmp_path, str(path), *needles)
    assert "each line must be user::item::rating::timestamp" in message


def test_empty_ratings_file(recbench, tmp_path, data_root):
    path = ml1m(data_root, "")
    _data_failure(recbench, tmp_path, f"{path} is empty (no rating rows)", "fill it")


@pytest.mark.parametrize("content, kind", [
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03binary", "a gzip archive"),
    (b"PK\x03\x04\x14\x00\x00\x00", "a zip archive"),
    (b"1::1::5::9\x00\x00\xff\xfe\x00garbage", "binary (it holds NUL bytes)"),
], ids=["gzip", "zip", "nul-bytes"])
def test_binary_ratings_file(recbench, tmp_path, data_root, content, kind):
    path = ml1m(data_root, content)
    _data_failure(recbench, tmp_path, f"{path} is {kind}", "unpack it")


def test_csv_missing_column_names_the_header(recbench, tmp_path, data_root):
    path = ml25m(data_root, "userId,movieId,rating\n1,1,4.0\n")
    _data_failure(recbench, tmp_path, f"{path}:1:", "the header has no column 'timestamp'",
                  "userId,movieId,rating,timestamp")


def test_csv_header_only_says_no_rows_not_kcore(recbench, tmp_path, data_root):
    path = ml25m(data_root, "userId,movieId,rating,timestamp\n")
    message = _data_failure(recbench, tmp_path, f"{path} has a header but no rating rows")
    assert "kcore" not in message


def test_csv_non_integer_id(recbench, tmp_path, data_root):
    rows = "".join(f"{u},{i},4.0,{900 + i}\n" for u in (1, 2) for i in (1, 2, 3))
    path = ml25m(data_root, "userId,movieId,rating,timestamp\n" + rows + "u7,1,4.0,5\n")
    _data_failure(recbench, tmp_path, f"{path}:8:", "column 1 (user id) is 'u7', not an integer")


def test_csv_out_of_scale_half_star_scale(recbench, tmp_path, data_root):
    rows = "".join(f"{u},{i},4.5,{900 + i}\n" for u in (1, 2) for i in (1, 2, 3))
    path = ml25m(data_root, "userId,movieId,rating,timestamp\n" + rows + "3,1,0.0,5\n")
    _data_failure(recbench, tmp_path, f"{path}:8:", "outside the rating scale 0.5-5")


def test_grouplens_u_data_non_numeric(recbench, tmp_path, data_root):
    raw = data_root / "raw" / "tiny100k"
    raw.mkdir(parents=True)
    (raw / "u.data").write_text("1\t1\t5\t881250949\n2\t1\tgood\t881250950\n")
    (raw / "u.item").write_text("1|Toy Story (1995)|01-Jan-1995||url|" + "|".join("0" * 19)
                                + "\n")
    (raw / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    (data_root / "tiny.toml").write_text('name = "tiny"\nloader = "ml-100k"\n'
                                         'paths = { path = "raw/tiny100k" }\n')
    _data_failure(recbench, tmp_path, f"{raw / 'u.data'}:2:", "column 3 (rating) is 'good'")


def test_amazon_negative_rating_names_the_line(recbench, tmp_path, data_root):
    raw = data_root / "raw"
    raw.mkdir()
    lines = [json.dumps({"reviewerID": f"U{u}", "asin": f"B{i}", "overall": 4.0,
                         "unixReviewTime": 1000 + i, "verified": True})
             for u in range(3) for i in range(3)]
    lines.append(json.dumps({"reviewerID": "U9", "asin": "B1", "overall": -2.0,
                             "unixReviewTime": 1, "verified": True}))
    (raw / "reviews.json").write_text("\n".join(lines) + "\n")
    (data_root / "tiny.toml").write_text('name = "tiny"\nloader = "amazon"\n'
                                         'paths = { reviews_path = "raw/reviews.json" }\n')
    _data_failure(recbench, tmp_path, f"{raw / 'reviews.json'}:10:", "overall = -2.0",
                  "not a rating in 1-5")


def test_one_user_file_names_the_real_cause(recbench, tmp_path, data_root):
    ml1m(data_root, "".join(f"1::{i}::4::{978300000 + i}\n" for i in range(1, 9)))
    message = _data_failure(recbench, tmp_path, "has only 1 user", "at least 2 users")
    assert "negative" not in message and str(data_root / "raw" / "tiny") in message


def test_own_rating_scale_in_the_dataset_file_is_accepted(recbench, tmp_path, data_root):
    rows = [r.rsplit("::", 2) for r in _good_rows()]
    ten_star = "".join(f"{a}::{int(b) * 2}::{c}\n" for a, b, c in rows)  # ratings 2..10
    ml1m(data_root, ten_star, "rating_scale = [1, 10]\nlike_threshold = 8\n")
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path))
    assert rc == 0, text


def test_duplicated_pairs_keep_the_latest_and_are_counted(recbench, tmp_path, data_root):
    good = _good_rows()
    rated_by_1 = {r.split("::")[1] for r in good if r.startswith("1::")}
    older = [f"1::{i}::1::1" for i in sorted(rated_by_1)]  # older ratings of the same pairs
    ml1m(data_root, "\n".join(older + good) + "\n")
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path))
    assert rc == 0, text
    (config,) = (tmp_path / "runs").rglob("config.json")
    split = json.loads(config.read_text())["split"]
    assert split["duplicates_dropped"] == len(rated_by_1) == 6
    assert split["n_train"] + split["n_valid"] + split["n_test"] == len(good)
    train = (Path(json.loads(config.read_text())["split"]["folder"]) / "train.tsv").read_text()
    assert "\t1.0\t1\n" not in train  # the older rating (1 star at time 1) was dropped


def test_extra_trailing_field_does_not_shift_the_columns(recbench, tmp_path, data_root):
    """Before: pandas took the first of five fields as the index, so users became items."""
    ml1m(data_root, "".join(f"{r}::extra\n" for r in _good_rows()))
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path))
    assert rc == 0, text
    (config,) = (tmp_path / "runs").rglob("config.json")
    split = json.loads(config.read_text())["split"]
    assert (split["n_users"], split["n_items"]) == (8, 8)


def test_duplicate_rule_ties_keep_the_later_line():
    import pandas as pd

    from benchmark.data.split import SplitSpec, make_split
    from benchmark.data.types import RawDataset

    rows = [(u, i, 3.0, 10 * n) for u in ("a", "b") for n, i in enumerate("pqrs")]
    rows += [("a", "p", 5.0, 0), ("a", "q", 1.0, 5)]  # p: tie at time 0 (later line wins);
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])  # q: older
    split = make_split(RawDataset("d", frame), SplitSpec())
    every = pd.concat([split.train.frame, split.valid.frame, split.test.frame])
    a_p = every[(every.user == 0) & (every.item == 0)]
    assert split.duplicates_dropped == 2 and len(every) == 8
    assert a_p["rating"].tolist() == [5.0]
    assert every[(every.user == 0) & (every.item == 1)]["rating"].tolist() == [3.0]


# ------------------------------------------------------------------ 8. numbers and ranges
@pytest.mark.parametrize("split, needles", [
    ("[0, 0, 0]", ["must each be a number > 0"]),
    ("[0.9, -0.1, 0.2]", ["must each be a number > 0"]),
    ("[8, 1, 1]", ["sum to 10, not 1"]),
    ("[0.8, 0.1, 0.2]", ["sum to 1.1, not 1"]),
], ids=["all-zero", "negative", "not-normalised", "sum-1.1"])
def test_bad_split_ratios_in_the_dataset_file(recbench, tmp_path, data_root, split, needles):
    ml1m(data_root, GOOD, f"[split]\nratios = {split}\n")
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path))
    assert rc == 2
    for needle in [*needles, "tiny.toml", "split.ratios", "[0.8, 0.1, 0.1]"]:
        assert needle in text, (needle, text)


def test_bad_split_ratios_in_the_suite_override(recbench, tmp_path, data_root):
    ml1m(data_root, GOOD)
    suite = suite_file(tmp_path, datasets='[[datasets]]\nname = "tiny"\n'
                       'split = { ratios = [0, 0, 0] }\n')
    rc, text = run_suite(recbench, tmp_path, suite)
    assert rc == 2 and "suite.toml" in text and "datasets.0.split.ratios" in text
    assert "must each be a number > 0" in text


def test_ratios_within_tolerance_are_accepted_as_written(data_root):
    from benchmark.data.split import SplitSpec

    assert SplitSpec(ratios=(0.7, 0.2, 0.1 + 5e-7)).ratios[2] == 0.1 + 5e-7


@pytest.mark.parametrize("setting, key, needles", [
    ('sampled_negatives = "50"', "accuracy", ["sampled_negatives", "'50'",
                                              "write numbers without quotes"]),
    ('ks = ["5"]', "accuracy", ["ks.0", "write numbers without quotes"]),  # replaces ks
    ('user_batch = 2.0', "accuracy", ["user_batch", "valid integer"]),
    ('memory_budget_mb = true', "accuracy", ["memory_budget_mb", "valid number"]),
], ids=["string-int", "string-in-list", "float-for-int", "bool-for-float"])
def test_no_coercion_to_numbers(recbench, tmp_path, data_root, setting, key, needles):
    ml1m(data_root, GOOD)
    text_suite = suite_file(tmp_path).read_text().replace("sampled_negatives = 1\n", "")
    if setting.startswith("ks"):
        text_suite = text_suite.replace("ks = [2]\n", "")
    path = tmp_path / "suite2.toml"
    path.write_text(text_suite + setting + "\n")
    rc, text = run_suite(recbench, tmp_path, path)
    assert rc == 2 and f"suite2.toml [{key}]" in text
    for needle in needles:
        assert needle in text, (needle, text)


def test_string_number_in_the_dataset_file(recbench, tmp_path, data_root):
    ml1m(data_root, GOOD, 'like_threshold = "4"\n')
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path))
    assert rc == 2 and "tiny.toml" in text and "like_threshold" in text
    assert "without quotes" in text


def test_integer_for_a_float_key_is_still_accepted(data_root):
    from benchmark.config.dataset_spec import load_dataset_spec

    ml1m(data_root, GOOD, "like_threshold = 4\nrating_scale = [1, 5]\n"
                          "[split]\nratios = [0.5, 0.25, 0.25]\n")
    spec, _ = load_dataset_spec("tiny")
    assert spec.like_threshold == 4.0 and spec.split.ratios == (0.5, 0.25, 0.25)
    assert spec.rating_scale == (1.0, 5.0)


@pytest.mark.parametrize("scale", ["[5, 1]", "[1, inf]"])
def test_bad_rating_scale(recbench, tmp_path, data_root, scale):
    ml1m(data_root, GOOD, f"rating_scale = {scale}\n")
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path))
    assert rc == 2 and "rating_scale" in text and "lowest <= highest" in text


def test_k_larger_than_the_catalogue(recbench, tmp_path, data_root):
    ml1m(data_root, GOOD)
    suite = suite_file(tmp_path).read_text().replace("ks = [2]", "ks = [2, 500]")
    (tmp_path / "big_k.toml").write_text(suite)
    rc, text = run_suite(recbench, tmp_path, tmp_path / "big_k.toml")
    assert rc == 1
    message = _error_json(tmp_path)["message"]
    assert "ks: k = [500] is larger than dataset 'tiny'" in message and "8 items" in message
    assert "use ks between 1 and 8" in message


def test_negative_seed_in_the_suite(recbench, tmp_path, data_root):
    ml1m(data_root, GOOD)
    suite = suite_file(tmp_path)
    suite.write_text(suite.read_text().replace("seeds = [0]", "seeds = [-1]"))
    rc, text = run_suite(recbench, tmp_path, suite)
    assert rc == 2 and "seeds" in text and "0 .. 2**32 - 1" in text


@pytest.mark.parametrize("argv, needles", [
    (["run", "S", "--seeds", "-1"], ["--seeds", "'-1' is out of range", "integer in 0"]),
    (["run", "S", "--seeds", "x"], ["--seeds", "'x' is not an integer"]),
    (["check", "--baseline", "a", "--current", "b", "--tolerance", "-1"],
     ["--tolerance", "must be a number >= 0"]),
    (["check", "--baseline", "a", "--current", "b", "--tolerance", "nan"],
     ["--tolerance", "must be a number >= 0"]),
    (["check", "--baseline", "a", "--current", "b", "--efficiency-tolerance", "-0.5"],
     ["--efficiency-tolerance", "must be a number >= 0"]),
    (["compare", "R", "--baseline", "m", "--resamples", "0"],
     ["--resamples", "must be an integer >= 1"]),
    (["compare", "R", "--baseline", "m", "--alpha", "1.5"],
     ["--alpha", "between 0 and 1"]),
    (["compare", "R", "--baseline", "m", "--confidence", "0"],
     ["--confidence", "between 0 and 1"]),
    (["run", "S", "--max-retries", "-2"], ["--max-retries", "integer >= 0"]),
], ids=["seeds-negative", "seeds-text", "tolerance-negative", "tolerance-nan",
        "efficiency-tolerance", "resamples-zero", "alpha", "confidence", "max-retries"])
def test_command_line_numbers_are_range_checked(recbench, argv, needles):
    rc, text = recbench(*argv)
    assert rc == 2
    assert "usage: recbench" in text
    for needle in needles:
        assert needle in text, (needle, text)


# ------------------------------------------------------------------ 9. smaller
@pytest.mark.parametrize("field", ["models", "datasets"])
def test_empty_models_or_datasets_is_an_error(recbench, tmp_path, data_root, field):
    ml1m(data_root, GOOD)
    kw = {field: "", "head": f"{field} = []\n"}
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path, **kw))
    assert rc == 2 and f"{field} is empty" in text and f"[[{field}]]" in text
    assert not (tmp_path / "runs").exists()


def test_out_pointing_at_a_file(recbench, tmp_path, data_root):
    ml1m(data_root, GOOD)
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    rc, text = recbench("run", suite_file(tmp_path), "--out", target)
    assert rc == 2 and f"--out {target}" in text and "is a file, not a folder" in text
    assert target.read_text() == "not a folder"


@pytest.fixture
def one_run(recbench, tmp_path, data_root) -> Path:
    ml1m(data_root, GOOD)
    rc, text = run_suite(recbench, tmp_path, suite_file(tmp_path))
    assert rc == 0, text
    return tmp_path / "runs" / "t"


def test_report_into_a_missing_folder_creates_it(recbench, tmp_path, one_run):
    target = tmp_path / "new" / "deeper" / "board.md"
    rc, text = recbench("report", one_run, "-o", target)
    assert rc == 0, text
    assert target.is_file() and "random" in target.read_text()


def test_report_output_onto_a_folder_or_below_a_file(recbench, tmp_path, one_run):
    rc, text = recbench("report", one_run, "-o", tmp_path)
    assert rc == 2 and f"-o {tmp_path} is a folder" in text and "report.md" in text
    blocker = tmp_path / "plain.txt"
    blocker.write_text("x")
    rc, text = recbench("report", one_run, "-o", blocker / "board.md")
    assert rc == 2 and "is a file, not a folder" in text


def test_ml100k_split_hash_unchanged_by_the_duplicate_rule():
    from benchmark.config.dataset_spec import load_dataset_spec
    from benchmark.data.loaders import load_raw
    from benchmark.data.split import make_split
    from benchmark.data.split_store import content_hash, serialise

    spec, base = load_dataset_spec("ml-100k")
    split = make_split(load_raw(spec.loader, **spec.loader_args(base)), spec.split_spec(0))
    assert content_hash(serialise(split)).startswith("801508cce1f2")
    assert split.describe()["duplicates_dropped"] == 0


def test_real_process_prints_one_message_and_debug_keeps_the_traceback(tmp_path):
    """The installed command, in its own process: no traceback for a user error, one with
    --debug (exit 2 for a bad suite file, argparse's usage for a bad number)."""
    import subprocess
    import sys

    suite = tmp_path / "empty.toml"
    suite.write_text('name = "e"\nmodels = []\n[[datasets]]\nname = "ml-100k"\n')
    cmd = [sys.executable, "-m", "benchmark.cli"]
    plain = subprocess.run([*cmd, "run", str(suite), "--out", str(tmp_path / "r")],
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2 and "models is empty" in plain.stderr
    assert "Traceback" not in plain.stderr and "fix:" in plain.stderr
    debug = subprocess.run([*cmd, "--debug", "run", str(suite)], capture_output=True, text=True,
                           timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    usage = subprocess.run([*cmd, "compare", "r", "--baseline", "m", "--resamples", "0"],
                           capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "--resamples" in usage.stderr
    assert "Traceback" not in usage.stderr
