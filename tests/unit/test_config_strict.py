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


def _model_fields(kind: type) -> list[tuple[str, str]]:
    import dataclasses
    import typing

    from benchmark.registry import MODELS, model_class

    out = []
    for name in sorted(MODELS):
        cls = model_class(name).Config
        hints = typing.get_type_hints(cls)
        out += [(name, f.name) for f in dataclasses.fields(cls) if hints[f.name] is kind]
    return out


@pytest.mark.parametrize("model, key", _model_fields(int) + _model_fields(float))
def test_a_quoted_number_is_refused_in_every_model(model, key):
    from benchmark.models.base import build_config
    from benchmark.registry import model_class

    with pytest.raises(ConfigError) as e:
        build_config(model_class(model).Config, {key: "50"}, f"suite model {model!r}")
    assert f"suite model {model!r}: parameter {key!r}" in e.value.what
    assert f"({key} = 50)" in (e.value.fix or "") and "recbench list models" in (e.value.fix or "")


@pytest.mark.parametrize("model, key", _model_fields(bool))
def test_a_quoted_boolean_is_refused_in_every_model(model, key):
    from benchmark.models.base import build_config
    from benchmark.registry import model_class

    with pytest.raises(ConfigError) as e:
        build_config(model_class(model).Config, {key: "yes"}, "m")
    assert f"parameter {key!r}" in e.value.what and "expected bool" in e.value.what
    assert f"({key} = true)" in (e.value.fix or "")


def test_model_config_widens_int_to_float_and_lists_to_tuples():
    import dataclasses

    from benchmark.models.base import build_config

    @dataclasses.dataclass
    class Toy:
        rate: float = 0.5
        sizes: tuple[int, ...] = (1,)
        name: str | None = None

        def __post_init__(self) -> None:
            if self.rate > 1:
                raise ConfigError(f"rate = {self.rate}", "use a rate <= 1")

    toy = build_config(Toy, {"rate": 1, "sizes": [2, 3]}, "m")
    assert toy == Toy(1.0, (2, 3)) and isinstance(toy.rate, float)
    for bad in ({"sizes": ["2"]}, {"name": 3}, {"rate": True}):
        with pytest.raises(ConfigError, match="m: parameter"):
            build_config(Toy, bad, "m")
    with pytest.raises(ConfigError) as e:  # the dataclass's own check, named like the rest
        build_config(Toy, {"rate": 2}, "suite model 'toy'")
    assert e.value.what == "suite model 'toy': rate = 2.0" and e.value.fix == "use a rate <= 1"


def test_an_unknown_executor_kind_is_an_error_not_an_empty_run():
    from benchmark.runner.executors import EXECUTOR_KINDS, ExecutorSettings

    assert EXECUTOR_KINDS == ("local", "ray")
    with pytest.raises(ConfigError) as e:
        ExecutorSettings(kind="slurm")  # type: ignore[arg-type]
    assert "unknown executor kind 'slurm'" in e.value.what and e.value.fix == "use one of local, ray"


@pytest.mark.parametrize("model, key, bad", [
    ("explainrec", "variant", "no_everything"), ("explainrec", "reason_loss", "bleu"),
    ("explainrec", "lambda_rule", "softmax"), ("lrrecsys", "finetune", "qlora"),
    ("lrrecsys", "text_encoder", "bow"), ("lrrecsys", "decoding", "beam"),
    ("tallrec", "finetune", "qlora"), ("p5", "score_task", "bleu"),
    ("recexplainer", "variant", "both"), ("recexplainer", "finetune", "qlora"),
    ("recexplainer", "explanation", "free"), ("sasrec", "loss_type", "BCE"),
    ("mmgcn", "combine", "max")])
def test_fixed_choice_parameters_list_their_values(model, key, bad):
    import dataclasses
    import typing

    from benchmark.models.base import build_config
    from benchmark.registry import model_class

    cls = model_class(model).Config
    choices = typing.get_args(typing.get_type_hints(cls)[key])
    with pytest.raises(ConfigError) as e:
        build_config(cls, {key: bad}, f"suite model {model!r}")
    assert f"suite model {model!r}: parameter {key!r}" in e.value.what and repr(bad) in e.value.what
    assert all(repr(c) in e.value.what for c in choices)
    default = next(f.default for f in dataclasses.fields(cls) if f.name == key)
    assert default in choices


def test_explainrec_variant_literal_matches_the_variant_table():
    import typing

    from explainrec.config import VARIANTS, Variant

    assert tuple(VARIANTS) == typing.get_args(Variant)
