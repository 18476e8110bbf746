"""Loaders read each dataset's exact upstream files (fixtures in tests/fixtures, made by
make_fixtures.py) and the ml-100k copy inside the recbole wheel."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.data.amazon import load_amazon, parse_record
from benchmark.data.loaders import load_raw
from benchmark.data.movielens import (
    load_ml1m,
    load_ml25m,
    load_ml100k,
    recbole_ml100k_dir,
    split_title_year,
)
from benchmark.errors import ConfigError, DataError, UnknownNameError

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def row(raw, user: str, item: str) -> pd.Series:
    f = raw.interactions
    hit = f[(f["user"] == user) & (f["item"] == item)]
    assert len(hit) == 1
    return hit.iloc[0]


def check_contract(raw) -> None:
    f = raw.interactions
    assert list(f.columns[:4]) == ["user", "item", "rating", "timestamp"]
    assert f["rating"].dtype == np.float32 and f["timestamp"].dtype == np.int64
    assert all(isinstance(x, str) for x in f["user"].head(50))
    assert all(isinstance(x, str) for x in f["item"].head(50))
    for side in (raw.items, raw.users):
        if side is not None:
            assert side.index.is_unique and all(isinstance(x, str) for x in side.index)


# ---------------------------------------------------------------- titles
@pytest.mark.parametrize("text, expected", [
    ("Toy Story (1995)", ("Toy Story", 1995)),
    ("Shanghai Triad (Yao a yao yao dao waipo qiao) (1995)",
     ("Shanghai Triad (Yao a yao yao dao waipo qiao)", 1995)),
    ("Land Before Time III: The Time of the Great Giving (1995) (V)",
     ("Land Before Time III: The Time of the Great Giving", 1995)),
    ("Babylon 5 (1994\u20131998)", ("Babylon 5", 1994)),
    ("Cosmos", ("Cosmos", None)),
    ("unknown", ("unknown", None)),
])
def test_split_title_year(text, expected):
    assert split_title_year(text) == expected


# ---------------------------------------------------------------- ml-1m
def test_ml1m_fixture():
    raw = load_ml1m(FIX / "ml-1m")
    check_contract(raw)
    assert raw.name == "ml-1m"
    assert (len(raw.interactions), len(raw.items), len(raw.users)) == (12, 12, 5)
    r = row(raw, "1", "1193")
    assert r["rating"] == 5.0 and r["timestamp"] == 978300760
    assert row(raw, "14", "3155")["rating"] == 2.0
    it = raw.items
    assert it.loc["73", "title"] == "Misérables, Les"  # latin-1 byte 0xE9 decoded
    assert it.loc["73", "year"] == 1995 and it.loc["73", "genres"] == ["Drama", "Musical"]
    assert it.loc["260", "title"] == "Star Wars: Episode IV - A New Hope"
    assert it.loc["260", "genres"] == ["Action", "Adventure", "Fantasy", "Sci-Fi"]
    assert it.loc["3932", "title"] == '"Great Performances" Cats'  # quotes are literal
    assert it.loc["2355", "title"] == "Bug's Life, A" and it.loc["2355", "year"] == 1998
    assert str(it["year"].dtype) == "Int64"
    us = raw.users
    assert us.loc["1"].to_dict() == {"age": 1, "gender": "F", "occupation": "K-12 student",
                                     "zip_code": "48067"}
    assert us.loc["2", "occupation"] == "self-employed"
    assert us.loc["6", "occupation"] == "homemaker"
    assert us.loc["10", "occupation"] == "academic/educator"
    assert us.loc["14", "occupation"] == "other" and us.loc["14", "zip_code"] == "98107-2117"
    assert us["age"].dtype == np.int64


def test_ml1m_accepts_unzip_root(tmp_path):
    shutil.copytree(FIX / "ml-1m", tmp_path / "ml-1m")
    assert len(load_ml1m(tmp_path).interactions) == 12  # parent of the unzipped ml-1m/


def test_ml1m_missing_folder_says_where_to_download(tmp_path):
    missing = tmp_path / "nowhere" / "ml-1m"
    with pytest.raises(DataError) as err:
        load_ml1m(missing)
    msg = str(err.value)
    assert str(missing / "ratings.dat") in msg
    assert "https://files.grouplens.org/datasets/movielens/ml-1m.zip" in msg


def test_ml1m_missing_one_file_names_it(tmp_path):
    shutil.copytree(FIX / "ml-1m", tmp_path / "ml-1m")
    (tmp_path / "ml-1m" / "users.dat").unlink()
    with pytest.raises(DataError, match="users.dat"):
        load_ml1m(tmp_path / "ml-1m")


def test_zip_archive_is_not_a_folder(tmp_path):
    (tmp_path / "ml-1m.zip").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="unzip"):
        load_ml1m(tmp_path / "ml-1m.zip")


def test_ml1m_bad_occupation_code(tmp_path):
    shutil.copytree(FIX / "ml-1m", tmp_path / "ml-1m")
    (tmp_path / "ml-1m" / "users.dat").write_text("1::F::1::21::48067\n", "latin-1")
    with pytest.raises(DataError, match="occupation code '21'"):
        load_ml1m(tmp_path / "ml-1m")


# ---------------------------------------------------------------- ml-25m
def test_ml25m_fixture():
    raw = load_ml25m(FIX / "ml-25m")
    check_contract(raw)
    assert raw.users is None
    assert (len(raw.interactions), len(raw.items)) == (10, 7)
    r = row(raw, "2", "171495")
    assert r["rating"] == np.float32(0.5) and r["timestamp"] == 1554749102
    assert row(raw, "1", "306")["rating"] == np.float32(3.5)
    it = raw.items
    assert it.loc["11", "title"] == "American President, The"  # quoted, with a comma
    assert it.loc["11", "year"] == 1995 and it.loc["11", "genres"] == ["Comedy", "Drama", "Romance"]
    assert it.loc["306", "title"] == "Three Colors: Red (Trois couleurs: Rouge)"
    assert it.loc["171495", "genres"] == [] and pd.isna(it.loc["171495", "year"])


def test_ml25m_ids_are_str_categories_in_string_order():
    f = load_ml25m(FIX / "ml-25m").interactions
    assert list(f["user"].astype(str).unique()) == ["1", "2", "10"]  # file order kept
    assert list(f["user"].cat.categories) == ["1", "10", "2"]  # sorted like plain strings
    assert pd.factorize(f["user"], sort=True)[1].tolist() == sorted({"1", "2", "10"})
    assert f["item"].astype(str).tolist()[:2] == ["296", "306"]


def test_ml25m_missing(tmp_path):
    with pytest.raises(DataError) as err:
        load_ml25m(tmp_path)
    assert str(tmp_path / "ratings.csv") in str(err.value)
    assert "https://files.grouplens.org/datasets/movielens/ml-25m.zip" in str(err.value)


# ---------------------------------------------------------------- ml-100k
@pytest.fixture(scope="module")
def ml100k():
    return load_ml100k()


def test_shipped_ml100k_counts_and_alignment(ml100k):
    check_contract(ml100k)
    f = ml100k.interactions
    assert len(f) == 100_000
    assert f["user"].nunique() == 943 and f["item"].nunique() == 1682
    assert (len(ml100k.users), len(ml100k.items)) == (943, 1682)
    assert set(f["user"]) == set(ml100k.users.index)
    assert set(f["item"]) == set(ml100k.items.index)
    first = f.iloc[0]
    assert (first["user"], first["item"], first["rating"], first["timestamp"]) == (
        "196", "242", 3.0, 881250949)
    assert ml100k.items.loc["1"].to_dict() == {
        "title": "Toy Story", "year": 1995, "genres": ["Animation", "Children's", "Comedy"]}
    assert ml100k.users.loc["1"].to_dict() == {
        "age": 24, "gender": "M", "occupation": "technician", "zip_code": "85711"}
    assert ml100k.users.loc["194", "zip_code"] == "02154"  # leading zero kept
    assert ml100k.items["year"].isna().sum() == 1  # item 267, "unknown"
    assert ml100k.source == str(recbole_ml100k_dir())


def test_grouplens_layout_parses_like_atomic(ml100k):
    gl = load_ml100k(FIX / "ml-100k-grouplens")
    check_contract(gl)
    assert (len(gl.interactions), len(gl.items), len(gl.users)) == (13, 6, 6)
    pd.testing.assert_frame_equal(gl.items, ml100k.items.loc[gl.items.index])
    pd.testing.assert_frame_equal(gl.users, ml100k.users.loc[gl.users.index])
    merged = gl.interactions.merge(ml100k.interactions, on=["user", "item"], suffixes=("", "_a"))
    assert len(merged) == len(gl.interactions)
    assert (merged["rating"] == merged["rating_a"]).all()
    assert (merged["timestamp"] == merged["timestamp_a"]).all()
    assert gl.items.loc["543", "title"] == "Misérables, Les"  # latin-1 in u.item
    assert gl.items.loc["1412"].to_dict() == {
        "title": "Land Before Time III: The Time of the Great Giving", "year": 1995,
        "genres": ["Animation", "Children's"]}
    assert gl.items.loc["267", "genres"] == [] and pd.isna(gl.items.loc["267", "year"])


def test_ml100k_missing_folder(tmp_path):
    with pytest.raises(DataError) as err:
        load_ml100k(tmp_path / "ml-100k")
    assert str(tmp_path / "ml-100k") in str(err.value)
    assert "https://files.grouplens.org/datasets/movielens/ml-100k.zip" in str(err.value)


def test_import_stays_light():
    code = ("import sys, benchmark.data.loaders, benchmark.data.movielens, benchmark.data.amazon;"
            "from benchmark.data.movielens import recbole_ml100k_dir; recbole_ml100k_dir();"
            "print(sorted(m for m in ('torch', 'recbole') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- Amazon
def test_amazon_2014():
    raw = load_amazon(FIX / "amazon2014" / "reviews.json", FIX / "amazon2014" / "meta.json.gz")
    check_contract(raw)
    assert raw.name == "amazon2014-reviews"
    f = raw.interactions
    assert len(f) == 5 and list(f.columns) == ["user", "item", "rating", "timestamp", "review",
                                               "summary"]
    r = row(raw, "A3UORV8A9D5L2E", "B00000F1GM")
    assert r["rating"] == 5.0 and r["timestamp"] == 1104537600
    assert r["review"] == "Spielberg\u2019s best \u2014 hard to watch, harder to forget."
    assert r["summary"] == "Essential"
    assert row(raw, "ADZPIG9QOCDG5", "B00000F1GM")["review"] == ""
    it = raw.items
    assert list(it.columns) == ["title", "description", "categories", "brand", "image_url"]
    assert it.loc["B00000F1GM", "title"] == "Schindler's List"  # a double-quoted literal
    assert it.loc["B00000F1GM", "categories"] == ["Movies & TV", "Movies", "Drama"]
    assert it.loc["B00000F1GM", "brand"] == "Universal"
    assert it.loc["0005019281", "description"].startswith("Henry Winkler stars")
    assert it.loc["0005019281", "image_url"].endswith("51K7D8EJ3ZL._SY300_.jpg")
    assert it.loc["B0001XAM2O"].to_dict() == {
        "title": None, "description": "", "categories": ["Movies & TV", "Kids & Family"],
        "brand": None, "image_url": None}


def test_amazon_2018():
    raw = load_amazon(FIX / "amazon2018" / "reviews.json.gz", FIX / "amazon2018" / "meta.json")
    check_contract(raw)
    assert raw.name == "amazon2018-reviews"
    f = raw.interactions
    assert len(f) == 4
    r = row(raw, "A2VHSG6TZHU1OB", "0001527665")
    assert r["rating"] == 5.0 and r["timestamp"] == 1361145600 and r["summary"] == "Realistic"
    assert r["review"].startswith("Having lived in West New Guinea")
    assert row(raw, "A3478QRKQDOPQ2", "B00F3G4BOE")["review"] == ""  # no reviewText key
    it = raw.items
    assert len(it) == 2  # the duplicate asin keeps its first record
    assert it.loc["0001527665"].to_dict() == {
        "title": "Peace Child VHS", "description": "Ta-Mi-Lu tribe's story.\nFilmed in Papua.",
        "categories": ["Movies & TV", "Movies"], "brand": "Jeremy Taylor",
        "image_url": "https://images-na.ssl-images-amazon.com/images/I/51SW2Z0XE0L.jpg"}
    assert it.loc["B00F3G4BOE", "categories"] == ["Movies & TV", "TV"]
    assert it.loc["B00F3G4BOE", "brand"] is None and it.loc["B00F3G4BOE", "image_url"] is None


def test_amazon_reviews_only_and_explicit_version():
    raw = load_amazon(FIX / "amazon2014" / "reviews.json", version="2014", name="movies")
    assert raw.items is None and raw.name == "movies" and len(raw.interactions) == 5


def review(i: int) -> dict:
    return {"reviewerID": f"U{i % 7}", "asin": f"B{i:04d}", "overall": 4.0,
            "unixReviewTime": 1_300_000_000 + i, "reviewText": "fine", "summary": "ok",
            "helpful": [0, 0]}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), "utf-8")
    return path


def test_amazon_few_bad_lines_are_skipped_and_counted(tmp_path):
    lines = [json.dumps(review(i)) for i in range(150)]
    bad = review(150)
    del bad["asin"]
    lines.insert(40, json.dumps(bad))  # line 41
    path = write_lines(tmp_path / "reviews.json", lines)
    with pytest.warns(UserWarning, match="line 41"):
        raw = load_amazon(path)
    assert len(raw.interactions) == 150
    assert raw.interactions.attrs["skipped_lines"] == 1


def test_amazon_too_many_bad_lines(tmp_path):
    lines = [json.dumps(review(i)) for i in range(10)]
    lines[2] = '{"reviewerID": "U1", "asin": '  # truncated JSON
    lines[6] = json.dumps({k: v for k, v in review(6).items() if k != "overall"})
    path = write_lines(tmp_path / "reviews.json", lines)
    with pytest.raises(DataError) as err:
        load_amazon(path)
    msg = str(err.value)
    assert str(path) in msg and "2 of 10 lines" in msg and "first at line 3" in msg


def test_amazon_empty_file(tmp_path):
    path = write_lines(tmp_path / "reviews.json", ["", "  "])
    with pytest.raises(DataError, match=f"{path}.*empty"):
        load_amazon(path)


def test_amazon_truncated_gzip(tmp_path):
    data = gzip.compress((json.dumps(review(0)) + "\n").encode() * 200)
    path = tmp_path / "reviews.json.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="incomplete or corrupted"):
        load_amazon(path)


def test_amazon_missing_file(tmp_path):
    with pytest.raises(DataError) as err:
        load_amazon(tmp_path / "Movies_and_TV_5.json.gz", version="2018")
    msg = str(err.value)
    assert str(tmp_path / "Movies_and_TV_5.json.gz") in msg
    assert "https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2/" in msg


def test_literal_parser_never_evaluates(tmp_path):
    marker = tmp_path / "pwned"
    line = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    with pytest.raises(DataError, match="not a JSON object or Python dict literal"):
        parse_record(line, "meta.json:7")
    assert parse_record("{'asin': 'B1', 'categories': [['A', 'B']]}") == {
        "asin": "B1", "categories": [["A", "B"]]}
    with pytest.raises(DataError, match="expected a dict"):
        parse_record("['asin']")
    meta = write_lines(tmp_path / "meta.json", ["{'asin': 'B0000'}", line, "{'asin': 'B0001'}"])
    reviews = write_lines(tmp_path / "reviews.json", [json.dumps(review(0))])
    with pytest.raises(DataError, match="first at line 2"):
        load_amazon(reviews, meta)
    assert not marker.exists()


# ---------------------------------------------------------------- dispatch
def test_load_raw_dispatch():
    assert len(load_raw("ml-1m", path=FIX / "ml-1m").interactions) == 12
    raw = load_raw("amazon", reviews_path=str(FIX / "amazon2018" / "reviews.json.gz"))
    assert len(raw.interactions) == 4
    with pytest.raises(UnknownNameError, match="did you mean 'ml-1m'"):
        load_raw("ml-1M", path=FIX / "ml-1m")
    with pytest.raises(ConfigError, match="takes: path"):
        load_raw("ml-1m", folder=FIX / "ml-1m")


def test_loader_kinds_are_one_list():
    from typing import get_args

    from benchmark.config.dataset_spec import DatasetSpec
    from benchmark.data.loaders import LOADERS, LoaderKind
    from benchmark.data.ratings_check import RATING_SCALES

    kinds = get_args(LoaderKind)
    assert DatasetSpec.model_fields["loader"].annotation is LoaderKind
    assert tuple(LOADERS) == kinds and set(RATING_SCALES) <= set(kinds)
