"""costcalc.records: a `record` behaves as the frozen dataclass of the same fields, a `named_tuple` as
typing.NamedTuple — each compared here with the real one, built from the same class body."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costcalc.records import field, named_tuple, names, record, replace

ROOT = Path(__file__).resolve().parents[1]

VALUES = st.one_of(st.integers(-3, 3), st.text(max_size=2), st.none(), st.tuples(st.integers(0, 2)))


@st.composite
def layouts(draw):
    """Field specs in order: (name, has default, default, compared); defaults only after the required ones."""
    count = draw(st.integers(0, 6))
    required = draw(st.integers(0, count))
    return [
        (f"f{at}", at >= required, draw(VALUES), draw(st.booleans()) if at >= required else True) for at in range(count)
    ]


def _pair(layout):
    """The record and the frozen dataclass made of `layout`, both named `Row`."""
    made = []
    for kind in ("record", "dataclass"):
        namespace: dict = {"__annotations__": {}, "__module__": __name__, "__qualname__": "Row", "__doc__": "A row."}
        for name, has_default, default, compared in layout:
            namespace["__annotations__"][name] = "object"
            if has_default:
                namespace[name] = (
                    field(default=default, compare=compared)
                    if kind == "record"
                    else dataclasses.field(default=default, compare=compared)
                )
        cls = type("Row", (), namespace)
        made.append(record(cls) if kind == "record" else dataclasses.dataclass(frozen=True)(cls))
    return made


def _outcome(make):
    try:
        return ("made", make())
    except TypeError:
        return ("TypeError", None)


@given(layouts(), st.lists(VALUES, max_size=7), st.dictionaries(st.sampled_from(["f0", "f1", "f5", "zz"]), VALUES))
def test_a_record_is_made_and_refused_as_the_frozen_dataclass_is(layout, args, kwargs):
    mine, theirs = _pair(layout)
    ours, real = _outcome(lambda: mine(*args, **kwargs)), _outcome(lambda: theirs(*args, **kwargs))
    assert ours[0] == real[0]
    if ours[0] == "made":
        assert repr(ours[1]) == repr(real[1])
        assert dataclasses.astuple(ours[1]) == dataclasses.astuple(real[1])


@given(layouts(), st.lists(VALUES, min_size=6, max_size=6), st.lists(VALUES, min_size=6, max_size=6))
def test_equality_and_hashing_read_the_compared_fields_as_a_dataclass_does(layout, one, two):
    mine, theirs = _pair(layout)
    count = len(layout)
    a, b = mine(*one[:count]), mine(*two[:count])
    x, y = theirs(*one[:count]), theirs(*two[:count])
    assert (a == b) == (x == y)
    assert (a != b) == (x != y)
    if a == b:
        assert hash(a) == hash(b)
    assert a == mine(*one[:count]) and hash(a) == hash(mine(*one[:count]))
    assert a != x  # another class: never equal, as two dataclasses of the same fields are not


@given(layouts(), st.lists(VALUES, min_size=6, max_size=6), VALUES)
def test_replace_fields_asdict_pickle_and_copy_agree_with_dataclasses(layout, values, new):
    mine, theirs = _pair(layout)
    count = len(layout)
    ours, real = mine(*values[:count]), theirs(*values[:count])
    assert dataclasses.is_dataclass(ours) and dataclasses.is_dataclass(mine)
    assert [(f.name, f.default, f.compare) for f in dataclasses.fields(ours)] == [
        (f.name, f.default, f.compare) for f in dataclasses.fields(real)
    ]
    assert names(ours) == names(mine) == tuple(f.name for f in dataclasses.fields(real))
    assert dataclasses.asdict(ours) == dataclasses.asdict(real)
    for name in names(ours):
        assert dataclasses.astuple(replace(ours, **{name: new})) == dataclasses.astuple(
            dataclasses.replace(real, **{name: new})
        )
        assert dataclasses.replace(ours, **{name: new}) == replace(ours, **{name: new})
    assert copy.copy(ours) == ours and copy.deepcopy(ours) == ours


def test_a_record_is_frozen_and_pickles_by_name():
    from costcalc.catalog.rows import Model, TierPrice
    from costcalc.schemes.tile import TileRule

    rule = TileRule(85, 170, 2048, 768, 512)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'base'"):
        rule.base = 1
    with pytest.raises(AttributeError):
        del rule.tile
    assert pickle.loads(pickle.dumps(rule)) == rule
    assert repr(TierPrice(None)) == (
        "TierPrice(usd_per_1m_input=None, cached_input=None, long_context=None, source='', note='', "
        "valid_from=None, valid_until=None)"
    )
    assert "lifecycle" in names(Model) and Model.__match_args__[0] == "name"


def test_fields_follow_the_bases_and_class_variables_are_not_fields():
    @record
    class Base:
        a: int
        b: int = 2
        kind: typing.ClassVar[str] = "base"

    @record
    class Child(Base):
        c: int = 3
        b: int = 5

    @dataclasses.dataclass(frozen=True)
    class RealBase:
        a: int
        b: int = 2

    @dataclasses.dataclass(frozen=True)
    class RealChild(RealBase):
        c: int = 3
        b: int = 5

    assert names(Child) == tuple(f.name for f in dataclasses.fields(RealChild)) == ("a", "b", "c")
    assert dataclasses.astuple(Child(1)) == dataclasses.astuple(RealChild(1)) == (1, 5, 3)
    assert Child.kind == "base"
    with pytest.raises(TypeError, match="non-default argument 'd' follows default argument"):

        @record
        class Wrong:
            a: int = 1
            d: int


def test_a_default_factory_gives_each_record_its_own_value():
    @record
    class Holder:
        items: list = field(default_factory=list)

    one, two = Holder(), Holder()
    assert one.items == [] and one.items is not two.items
    with pytest.raises(ValueError):
        field(default=1, default_factory=list)


def test_named_tuple_is_typing_named_tuple():
    @named_tuple
    class Mine:
        """A pair."""

        a: int
        b: str | None = None

        def both(self) -> str:
            return f"{self.a}{self.b}"

    class Theirs(typing.NamedTuple):
        """A pair."""

        a: int
        b: str | None = None

        def both(self) -> str:
            return f"{self.a}{self.b}"

    for args in [(1,), (1, "x")]:
        assert tuple(Mine(*args)) == tuple(Theirs(*args))
        assert repr(Mine(*args)) == repr(Theirs(*args)).replace("Theirs", "Mine")
        assert Mine(*args).both() == Theirs(*args).both()
    assert Mine._fields == Theirs._fields and Mine._field_defaults == Theirs._field_defaults
    assert Mine.__doc__ == "A pair." and Mine(1)._replace(b="y") == (1, "y")
    with pytest.raises(TypeError, match="without a default follows one with a default"):

        @named_tuple
        class Wrong:
            a: int = 1
            b: int


def test_a_lookup_imports_no_dataclasses_typing_or_pathlib(tmp_path):
    """What the records are for: the start-up of a lookup pays for neither (benchmarks/bench_startup.py)."""
    code = (
        "import sys, costcalc; costcalc.image_tokens(1024, 1024, model='gpt-4o');"
        "costcalc.image_tokens(1024, 1024, model='claude-sonnet-4-6'); costcalc.image_tokens(512, 512, model='gemini-2.5-flash', inexact=True);"
        "print(sorted({'dataclasses', 'typing', 'inspect', 'pathlib', 'click'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_record_that_is_not_frozen_takes_assignments_and_has_no_hash_as_such_a_dataclass():
    @record(frozen=False)
    class Sums:
        count: int = 0
        items: list = field(default_factory=list)

    @dataclasses.dataclass
    class Real:
        count: int = 0
        items: list = dataclasses.field(default_factory=list)

    mine, theirs = Sums(), Real()
    mine.count += 2
    theirs.count += 2
    mine.items.append(1)
    theirs.items.append(1)
    assert dataclasses.astuple(mine) == dataclasses.astuple(theirs) and mine == Sums(2, [1])
    assert Sums.__hash__ is None and Real.__hash__ is None
    assert [f.name for f in dataclasses.fields(mine)] == [f.name for f in dataclasses.fields(theirs)]
    assert dataclasses.replace(mine, count=5) == Sums(5, [1])


def test_a_dataclass_may_subclass_a_record_and_the_signature_names_the_fields():
    import inspect

    from costcalc.pricing.cost import Estimate
    from costcalc.schemes.tile import TileRule

    @dataclasses.dataclass(frozen=True)
    class Mine(TileRule):
        extra: int = 0

    rule = Mine(85, 170, 2048, 768, 512, extra=3)
    assert rule.size(1024, 1024) == TileRule(85, 170, 2048, 768, 512).size(1024, 1024)
    assert [f.name for f in dataclasses.fields(rule)][-2:] == ["tile_size", "extra"]
    with pytest.raises(TypeError, match="non-frozen"):

        @dataclasses.dataclass
        class Loose(TileRule):
            extra: int = 0

    assert list(inspect.signature(TileRule).parameters) == ["base", "tile", "fit", "short_side", "tile_size"]
    assert "tokens" in inspect.signature(Estimate).parameters
    assert dataclasses.fields(TileRule)[0].type == "int"
