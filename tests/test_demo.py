"""``python -m skreg``: the demo's table says what the README claims."""

import pytest

from skreg import __main__ as demo


@pytest.fixture(scope="module")
def rows():
    return {r["setting"]: r for r in demo.compare(*demo.overfitting_task(random_state=0))}


def test_unregularized_network_overfits(rows):
    none = rows["none"]
    assert none["train"] == 1.0
    assert none["gap"] > 0.1
    assert none["features"] == demo.N_FEATURES


@pytest.mark.parametrize(
    "setting",
    ["l2=1", "l1=0.02", "group_l1=2", "dropout=0.2", "max_norm=0.5", "early_stopping"],
)
def test_regularizer_narrows_the_gap(rows, setting):
    assert rows[setting]["gap"] < rows["none"]["gap"]


@pytest.mark.parametrize("setting", ["all but early stop", "all seven"])
def test_combination_beats_none_on_test(rows, setting):
    assert rows[setting]["test"] > rows["none"]["test"] + 0.02
    assert rows[setting]["gap"] < rows["none"]["gap"] / 2


def test_group_lasso_drops_most_noise_features(rows):
    assert rows["group_l1=2"]["features"] <= 2 * demo.N_INFORMATIVE
    assert rows["l1=0.02"]["zero_share"] > 0.5


def test_verdicts_follow_the_rows():
    def row(setting, test, gap):
        return dict(
            setting=setting,
            train=test + gap,
            test=test,
            gap=gap,
            features=3,
            zero_share=0.0,
            epochs=1,
            seconds=0.0,
        )

    text = demo.report([row("none", 0.8, 0.1), row("a", 0.9, 0.05), row("b", 0.7, 0.2)])
    assert "narrower gap than none: a\n" in text
    assert "wider gap than none: b\n" in text
    assert text.endswith("better test accuracy than none: a")


def test_main_prints_the_table(capsys):
    demo.main()
    out = capsys.readouterr().out
    for setting in demo.SETTINGS:
        assert f"\n{setting} " in out
    assert "narrower gap than none:" in out


def test_compile_fills_numbas_cache_and_says_how_much(capsys):
    """``python -m skreg --compile``: every kernel a fit or a prediction uses
    is compiled or found cached, and the line says which."""
    demo.main(["--compile"])
    line = capsys.readouterr().out.strip()
    assert line.startswith("skreg's kernels: ") and "signatures compiled into Numba's cache" in line
    compiled, cached = (int(word) for word in line.split() if word.isdigit())
    assert compiled + cached > 0
