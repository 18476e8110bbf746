"""One strict config system: no string is turned into a number or a boolean, anywhere, and every
config error is written by the one formatter (key named, fix given)."""

from __future__ import annotations

import pytest

from benchmark.config.base import parse_model
from benchmark.config.suite import load_suite
from benchmark.errors import ConfigError
from benchmark.registry import TRACKS, track_class

SUITE = """
name = "t"
[[datasets]]
name = "ml-100k"
[[models]]
name = "pop"
"""


def _fields_of(kind: type) -> list[tuple[str, str]]:
    return [(track, name) for track in sorted(TRACKS)
            for name, f in track_class(track).Settings.model_fields.items()
            if f.annotation is kind]


@pytest.mark.parametrize("track, key", _fields_of(int))
def test_a_quoted_number_is_refused_in_every_track(track, key):
    with pytest.raises(ConfigError) as e:
        parse_model(track_class(track).Settings, {key: "50"}, f"s.toml [{track}]")
    assert f"s.toml [{track}]: key {key!r}" in e.value.what and "'50'" in e.value.what
    assert f"write numbers without quotes ({key} = 50)" in (e.value.fix or "")


@pytest.mark.parametrize("track, key", _fields_of(bool))
def test_a_quoted_boolean_is_refused_in_every_track(track, key):
    with pytest.raises(ConfigError) as e:
        parse_model(track_class(track).Settings, {key: "yes"}, f"s.toml [{track}]")
    assert f"key {key!r}" in e.value.what and "expected bool" in e.value.what
    assert f"write true or false without quotes ({key} = true)" in (e.value.fix or "")


def test_suite_file_names_the_file_key_and_fix(tmp_path):
    path = tmp_path / "suite.toml"
    path.write_text(SUITE + '[accuracy]\nmask_seen = "no"\nsampled_negatives = "50"\n')
    with pytest.raises(ConfigError) as e:
        load_suite(path)
    assert f"{path} [accuracy]" in e.value.what
    assert "key 'mask_seen'" in e.value.what and "key 'sampled_negatives'" in e.value.what
    assert "mask_seen = false" in str(e.value) and "sampled_negatives = 50" in str(e.value)


def test_unknown_top_level_key_suggests_the_close_one(tmp_path):
    path = tmp_path / "suite.toml"
    path.write_text(SUITE.replace('name = "t"', 'name = "t"\nseds = [1]') + "[acuracy]\n")
    with pytest.raises(ConfigError) as e:
        load_suite(path)
    assert "unknown key 'seds' (did you mean 'seeds'?)" in e.value.what
    assert "'acuracy' (did you mean 'accuracy'?)" in e.value.what
    assert "sections" not in (e.value.fix or "") and "accuracy" in (e.value.fix or "")
