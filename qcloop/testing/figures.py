"""Figures a test run reports at its end (pytest's terminal summary, see conftest.py): how much
hostile input was tried, and the like. Tests add to them; nothing here asserts anything."""

from collections import Counter

FIGURES: Counter[str] = Counter()


def count(what: str, n: int = 1) -> None:
    FIGURES[what] += n
