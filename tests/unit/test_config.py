import pytest

from benchmark.config.suite import load_suite
from benchmark.errors import ConfigError, UnknownNameError
from benchmark.models.base import build_config
from benchmark.runner.runner import preflight

GOOD = """
name = "t"
seeds = [0, 1]
[[datasets]]
name = "ml-100k"
[[models]]
name = "pop"
[accuracy]
ks = [10, 5, 10]
"""


def write(tmp_path, text):
    p = tmp_path / "suite.toml"
    p.write_text(text)
    return p


def test_good_suite_loads_with_defaults(tmp_path):
    s = load_suite(write(tmp_path, GOOD))
    assert s.seeds == [0, 1]
    assert s.accuracy.ks == [5, 10]  # sorted, deduplicated
    assert s.accuracy.protocols == ["full", "sampled", "pointwise"]


def test_unknown_key_names_file_and_key(tmp_path):
    p = write(tmp_path, GOOD.replace("seeds = [0, 1]", "seeds = [0]\nsedes = [1]"))
    with pytest.raises(ConfigError) as e:
        load_suite(p)
    assert str(p) in e.value.what and "unknown key 'sedes'" in e.value.what


def test_wrong_type_names_key_and_value(tmp_path):
    with pytest.raises(ConfigError, match=r"\[accuracy\]: key 'sampled_negatives'.*'many'"):
        load_suite(write(tmp_path, GOOD + 'sampled_negatives = "many"\n'))


def test_unknown_model_suggests_close_name(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_suite(write(tmp_path, GOOD.replace('name = "pop"', 'name = "lightgnc"')))
    assert "unknown model 'lightgnc'" in e.value.what
    assert "did you mean 'lightgcn'" in e.value.fix


def test_unknown_dataset_is_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown dataset 'ml-100"):
        load_suite(write(tmp_path, GOOD.replace('name = "ml-100k"', 'name = "ml-100"')))


def test_malformed_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_suite(write(tmp_path, "name = \n"))
    with pytest.raises(ConfigError, match="not found"):
        load_suite(tmp_path / "nope.toml")


def test_duplicate_model_labels_rejected(tmp_path):
    with pytest.raises(ConfigError, match="appear twice"):
        load_suite(write(tmp_path, GOOD + '[[models]]\nname = "pop"\n'))


def test_model_params_checked_before_training(tmp_path):
    text = GOOD.replace('name = "pop"', 'name = "ease"\nparams = { l3 = 1.0 }')
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) 'l3' \(did you mean 'l2'\?\)"):
        preflight(load_suite(write(tmp_path, text)))
    text = GOOD.replace('name = "pop"', 'name = "ease"\nparams = { l2 = "big" }')
    with pytest.raises(ConfigError, match="expected float"):
        preflight(load_suite(write(tmp_path, text)))


def test_build_config_accepts_int_for_float_but_not_bool():
    from baselines.ease import EASEConfig

    assert build_config(EASEConfig, {"l2": 10}, "m").l2 == 10.0
    with pytest.raises(ConfigError):
        build_config(EASEConfig, {"l2": True}, "m")


def test_registry_unknown_name_lists_known():
    from benchmark.registry import build_model

    with pytest.raises(UnknownNameError) as e:
        build_model("bprr")
    assert "did you mean 'bpr'" in e.value.fix


def test_every_shipped_dataset_and_suite_file_validates():
    from pathlib import Path

    from benchmark.config.dataset_spec import known_datasets, load_dataset_spec

    root = Path(__file__).resolve().parents[2]
    assert {"ml-100k", "ml-1m", "ml-25m", "amazon-movies", "amazon-books"} <= set(known_datasets())
    for name in known_datasets():
        spec, _ = load_dataset_spec(name)
        assert spec.name == name
    for suite in (root / "suites").glob("*.toml"):
        load_suite(suite)


def test_missing_raw_files_fail_before_training(tmp_path):
    from benchmark.config.dataset_spec import DATASET_DIR
    from benchmark.errors import DataError

    if (DATASET_DIR / "raw" / "ml-1m").exists():
        pytest.skip("ml-1m is present on this machine")
    p = write(tmp_path, GOOD.replace('name = "ml-100k"', 'name = "ml-1m"'))
    with pytest.raises(DataError) as e:
        preflight(load_suite(p))
    assert "raw/ml-1m" in e.value.what and "ml-1m.zip" in e.value.fix


def test_unknown_track_and_track_section_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown track\(s\) \['acuracy'\]"):
        load_suite(write(tmp_path, GOOD.replace('seeds = [0, 1]', 'seeds = [0]\ntracks = ["acuracy"]')))
    with pytest.raises(ConfigError, match=r"\[accuracy\]: unknown key 'kz'"):
        load_suite(write(tmp_path, GOOD.replace("ks = [10, 5, 10]", "kz = [10]")))


def test_per_model_tracks_are_a_checked_subset(tmp_path):
    two = GOOD.replace('seeds = [0, 1]', 'seeds = [0]\ntracks = ["accuracy", "efficiency"]') \
        + '[[models]]\nname = "random"\n'
    two = two.replace("[accuracy]\nks = [10, 5, 10]\n", "") + "[accuracy]\nks = [10]\n"
    s = load_suite(write(tmp_path, two.replace('name = "pop"', 'name = "pop"\ntracks = '
                                                '["efficiency"]', 1)))
    pop, rnd = s.models
    assert s.tracks_for(pop) == ["efficiency"]
    assert s.tracks_for(rnd) == ["accuracy", "efficiency"]
    bad = write(tmp_path, two.replace('name = "pop"', 'name = "pop"\ntracks = ["explanation"]', 1))
    with pytest.raises(ConfigError, match="subset of the suite's tracks"):
        load_suite(bad)
