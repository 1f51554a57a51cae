"""Provable sample draws: reproducible from the seed, spread over the lot."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcloop.sampling import ALGORITHM, draw_sample


def test_same_seed_same_draw():
    assert draw_sample(400, 125, seed="PO 4411") == draw_sample(400, 125, seed="PO 4411")
    assert draw_sample(400, 125, seed=7).cartons != draw_sample(400, 125, seed=8).cartons


def test_draw_v1_is_pinned():
    """Changing these numbers breaks every recorded draw: publish qcloop-draw-v2 instead."""
    found = draw_sample(100, 32, seed="PO-4411")
    assert found.algorithm == ALGORITHM == "qcloop-draw-v1"
    assert found.cartons == (4, 15, 30, 37, 50, 53, 64, 73, 84, 98)
    assert found.units_per_carton == {
        4: 4,
        15: 4,
        30: 3,
        37: 3,
        50: 3,
        53: 3,
        64: 3,
        73: 3,
        84: 3,
        98: 3,
    }


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 1250), st.text(min_size=1, max_size=12))
def test_cartons_distinct_in_range_and_one_per_stratum(cartons, units, seed):
    found = draw_sample(cartons, units, seed=seed)
    k = min(math.ceil(math.sqrt(cartons)), units)
    assert len(found.cartons) == k
    assert len(set(found.cartons)) == k
    assert all(1 <= carton <= cartons for carton in found.cartons)
    for i, carton in enumerate(found.cartons):  # ascending, so the i-th is in stratum i
        assert i * cartons // k + 1 <= carton <= (i + 1) * cartons // k
    counts = list(found.units_per_carton.values())
    assert sum(counts) == units
    assert max(counts) - min(counts) <= 1
    assert found == draw_sample(cartons, units, seed=found.seed)


def test_count_is_the_square_root_of_the_carton_count():
    assert len(draw_sample(100, 200, seed=1).cartons) == 10
    assert len(draw_sample(101, 200, seed=1).cartons) == 11
    assert len(draw_sample(1, 5, seed=1).cartons) == 1


def test_fewer_units_than_cartons_to_open():
    found = draw_sample(400, 5, seed=1)
    assert len(found.cartons) == 5
    assert set(found.units_per_carton.values()) == {1}


def test_generated_seed_is_recorded_and_rederives_the_draw():
    found = draw_sample(50, 20)
    assert len(found.seed) == 16 and int(found.seed, 16) >= 0
    assert draw_sample(50, 20, seed=found.seed) == found
    assert draw_sample(50, 20).seed != found.seed


class TestKnownContents:
    def test_positions_inside_each_carton(self):
        found = draw_sample(100, 80, seed="x", units_per_carton=24)
        for draw in found.draws:
            assert draw.positions is not None
            assert len(draw.positions) == len(set(draw.positions)) == draw.units
            assert all(1 <= position <= 24 for position in draw.positions)

    def test_no_carton_gives_more_than_it_holds(self):
        sizes = [5, 0, 3, 2, 8, 1, 1, 4, 6, 2]
        found = draw_sample(10, 13, seed=42, units_per_carton=sizes)
        assert sum(found.units_per_carton.values()) == 13
        for carton, units in found.units_per_carton.items():
            assert units <= sizes[carton - 1]
        assert found == draw_sample(10, 13, seed=42, units_per_carton=sizes)

    def test_unknown_contents_give_no_positions(self):
        assert all(draw.positions is None for draw in draw_sample(9, 9, seed=1).draws)

    def test_not_enough_units_in_the_lot(self):
        with pytest.raises(ValueError, match="hold 6 units"):
            draw_sample(3, 7, seed=1, units_per_carton=2)


def test_to_dict_is_json_with_the_algorithm_named():
    data = json.loads(json.dumps(draw_sample(16, 10, seed="s", units_per_carton=4).to_dict()))
    assert data["algorithm"] == "qcloop-draw-v1"
    assert "Mersenne Twister" in data["algorithm_description"]
    assert data["seed"] == "s"
    assert len(data["cartons"]) == 4
    assert sum(d["units"] for d in data["draws"]) == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"carton_count": 0, "units_to_draw": 1}, "carton_count"),
        ({"carton_count": 5, "units_to_draw": 0}, "units_to_draw"),
        ({"carton_count": 5, "units_to_draw": 2, "seed": ""}, "seed"),
        ({"carton_count": 2, "units_to_draw": 2, "units_per_carton": [1]}, "one per carton"),
    ],
)
def test_invalid_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        draw_sample(**kwargs)
