"""rollsplit.spec.model.frozen: a faster __init__ for frozen dataclasses that must behave exactly like the generated one."""

from __future__ import annotations

import dataclasses

import pytest

from rollsplit.spec.model import frozen


@frozen
class Fast:
    a: int
    b: str = "x"
    c: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Plain:
    a: int
    b: str = "x"
    c: list = dataclasses.field(default_factory=list)


@pytest.mark.parametrize("args, kwargs", [((1,), {}), ((1, "y"), {}), ((), {"a": 2, "c": [3]}), ((4, "z", [5]), {})])
def test_the_fast_init_builds_what_the_dataclass_init_builds(args, kwargs):
    fast, plain = Fast(*args, **kwargs), Plain(*args, **kwargs)
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    assert Fast(*args, **kwargs) == fast and Fast(*args, **kwargs) != Fast(9)
    assert dataclasses.replace(fast, b="w").b == "w" and dataclasses.replace(fast, b="w").a == fast.a


def test_it_stays_immutable_and_factories_are_fresh():
    x = Fast(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.a = 2
    assert Fast(1).c is not Fast(1).c
    with pytest.raises(TypeError):
        Fast()   # a required field stays required
    with pytest.raises(TypeError):
        Fast(1, d=2)   # and unknown ones are refused


def test_a_field_outside_init_is_refused_rather_than_mishandled():
    with pytest.raises(AssertionError):
        @frozen
        class Odd:
            a: int
            b: int = dataclasses.field(default=0, init=False)
