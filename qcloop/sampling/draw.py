"""Provable sample draws: which cartons to open and which units to take, from a seed.

Algorithm ``qcloop-draw-v1`` (anyone can re-derive a draw from its seed with CPython 3):

1. ``rng = random.Random(seed)`` where ``seed`` is the seed *string* (Mersenne Twister;
   Python seeds from a string through SHA-512 of its UTF-8 bytes).
2. Cartons to open: ``k = min(ceil(sqrt(N)), N, units)`` for N cartons (industry practice:
   the square root of the carton count). Cartons 1..N are cut into k strata, stratum i
   (0-based) being ``floor(i*N/k)+1 .. floor((i+1)*N/k)``; one carton is picked from each
   with ``rng.randint(low, high)``, so the opened cartons spread across the whole lot.
3. Units per opened carton (in stratum order): ``units // k`` each; the ``units % k``
   extra units go to the strata chosen by ``rng.sample(range(k), units % k)``.
4. With known carton contents, no carton gives more than it holds: the overflow goes, one unit
   at a time, to ``rng.choice`` of the opened cartons with room left (in carton order); if
   they are all full, ``rng.choice`` of the unopened cartons with units is opened as well.
5. With known contents, the units to take from each opened carton (in carton order) are
   ``sorted(rng.sample(range(1, size + 1), count))``: positions 1..size in the carton.
"""

import math
import random
import secrets
from dataclasses import dataclass
from typing import Any

ALGORITHM = "qcloop-draw-v1"
ALGORITHM_DESCRIPTION = (
    "qcloop-draw-v1: random.Random(seed string) Mersenne Twister; ceil(sqrt(N)) cartons, one "
    "per equal stratum of the carton numbers; units split evenly, extras to random strata"
)


@dataclass(frozen=True)
class CartonDraw:
    """One opened carton: how many units to take, and which (1-based positions) if known."""

    carton: int
    units: int
    positions: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SampleDraw:
    """The draw for one inspection, with everything needed to re-derive it."""

    seed: str
    algorithm: str
    carton_count: int
    units_to_draw: int
    draws: tuple[CartonDraw, ...]

    @property
    def cartons(self) -> tuple[int, ...]:
        """Carton numbers to open (1-based, ascending)."""
        return tuple(draw.carton for draw in self.draws)

    @property
    def units_per_carton(self) -> dict[int, int]:
        return {draw.carton: draw.units for draw in self.draws}

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "algorithm": self.algorithm,
            "algorithm_description": ALGORITHM_DESCRIPTION,
            "carton_count": self.carton_count,
            "units_to_draw": self.units_to_draw,
            "cartons": list(self.cartons),
            "draws": [
                {
                    "carton": d.carton,
                    "units": d.units,
                    "positions": list(d.positions) if d.positions is not None else None,
                }
                for d in self.draws
            ],
        }


def new_seed() -> str:
    """A fresh, unpredictable seed (64 bits from ``secrets``), as 16 hex digits."""
    return secrets.token_hex(8)


def draw_sample(
    carton_count: int,
    units_to_draw: int,
    seed: str | int | None = None,
    units_per_carton: int | list[int] | None = None,
) -> SampleDraw:
    """Which cartons to open and how many (and, with known contents, which) units to take.
    Without a seed, a fresh one is generated and recorded on the result."""
    _positive(carton_count, "carton_count")
    _positive(units_to_draw, "units_to_draw")
    seed_text = new_seed() if seed is None else _seed_text(seed)
    sizes = _carton_sizes(units_per_carton, carton_count, units_to_draw)
    rng = _rng(seed_text)
    strata = _strata(carton_count, min(math.isqrt(carton_count - 1) + 1, units_to_draw))
    cartons = [rng.randint(low, high) for low, high in strata]
    counts = _split(units_to_draw, len(cartons), rng)
    allocation = dict(zip(cartons, counts, strict=True))
    if sizes is not None:
        _fit_to_contents(allocation, sizes, rng)
    draws = tuple(
        CartonDraw(carton, units, _positions(rng, sizes, carton, units))
        for carton, units in sorted(allocation.items())
        if units > 0
    )
    return SampleDraw(seed_text, ALGORITHM, carton_count, units_to_draw, draws)


def _rng(seed_text: str) -> random.Random:
    # The generator is part of the algorithm's name: changing it means qcloop-draw-v2.
    return random.Random(seed_text)


def _positive(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number, 1 or more; got {value!r}")


def _seed_text(seed: str | int) -> str:
    if isinstance(seed, bool) or not isinstance(seed, str | int) or str(seed) == "":
        raise ValueError(f"seed must be a non-empty string or an integer; got {seed!r}")
    return str(seed)


def _carton_sizes(units_per_carton, carton_count: int, units: int) -> list[int] | None:
    if units_per_carton is None:
        return None
    if isinstance(units_per_carton, int) and not isinstance(units_per_carton, bool):
        sizes = [units_per_carton] * carton_count
    else:
        sizes = list(units_per_carton)
    if len(sizes) != carton_count or any(
        isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in sizes
    ):
        raise ValueError(
            "units_per_carton must be one whole number (0 or more) or a list with one per carton"
        )
    if sum(sizes) < units:
        raise ValueError(f"the cartons hold {sum(sizes)} units; cannot draw {units}")
    return sizes


def _strata(carton_count: int, k: int) -> list[tuple[int, int]]:
    return [(i * carton_count // k + 1, (i + 1) * carton_count // k) for i in range(k)]


def _split(units: int, k: int, rng) -> list[int]:
    counts = [units // k] * k
    for index in rng.sample(range(k), units % k):
        counts[index] += 1
    return counts


def _fit_to_contents(allocation: dict[int, int], sizes: list[int], rng) -> None:
    """Move units a carton cannot give to other cartons (step 4 of the algorithm)."""
    overflow = 0
    for carton in sorted(allocation):
        room = sizes[carton - 1]
        if allocation[carton] > room:
            overflow += allocation[carton] - room
            allocation[carton] = room
    while overflow:
        open_with_room = [c for c in sorted(allocation) if allocation[c] < sizes[c - 1]]
        if open_with_room:
            allocation[rng.choice(open_with_room)] += 1
            overflow -= 1
            continue
        unopened = [c for c in range(1, len(sizes) + 1) if c not in allocation and sizes[c - 1]]
        allocation[rng.choice(unopened)] = 0


def _positions(rng, sizes: list[int] | None, carton: int, units: int) -> tuple[int, ...] | None:
    if sizes is None:
        return None
    return tuple(sorted(rng.sample(range(1, sizes[carton - 1] + 1), units)))
