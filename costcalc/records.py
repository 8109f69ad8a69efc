"""Frozen records: what `@dataclass(frozen=True)` makes of a class, without what it costs a command to start.

`dataclasses` imports `inspect` (and with it `ast`, `dis`, `tokenize`) and compiles
six methods for each class it makes: ~0.5 ms a class and ~7 ms for the import, a third of
`import costcalc; image_tokens(...)` (benchmarks/bench_startup.py). The rows of the tables,
the rules of every scheme and the other values a price is made of are `record`s instead
(and `named_tuple` is `typing.NamedTuple`, without importing `typing`):
the same `__init__` (positional or keyword, defaults, `default_factory`), `__eq__` and
`__hash__` over the compared fields, `__repr__`, `__match_args__`, and an error on any
assignment — from methods shared by every record, compiled once with this module.

A record is still a dataclass to `dataclasses.fields`, `replace`, `asdict` and
`is_dataclass`, and a dataclass may subclass it: its `__dataclass_fields__` and
`__dataclass_params__` are made on first use, by `dataclasses` itself, from the same
fields (`dataclasses` is imported then); assigning a field raises dataclasses'
FrozenInstanceError; `inspect.signature` gives its fields. `tests/test_records.py`
holds each behaviour equal to a frozen dataclass's. Not supported (not used here):
`slots`, `order`, `kw_only`, `InitVar`, fields without an `__init__` parameter.
"""

from __future__ import annotations

from collections import namedtuple
from operator import attrgetter

__all__ = ["record", "field", "names", "replace", "named_tuple"]

_MISSING = object()
_RECORD = "__record_fields__"


class Field:
    """How a field is made (`field(...)`): its default or default factory, and whether it counts for equality."""

    __slots__ = ("default", "default_factory", "compare", "annotation")

    def __init__(self, default=_MISSING, default_factory=_MISSING, compare: bool = True):
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.default, self.default_factory, self.compare = default, default_factory, compare
        self.annotation = "object"

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.default_factory is _MISSING

    def given(self) -> dict:
        """Its default or default factory as `dataclasses.field` takes them ({} for a required field)."""
        if self.default is not _MISSING:
            return {"default": self.default}
        return {} if self.default_factory is _MISSING else {"default_factory": self.default_factory}


def field(*, default=_MISSING, default_factory=_MISSING, compare: bool = True) -> Field:
    """A field's default (or `default_factory`) and whether equality and hashing read it (dataclasses.field)."""
    return Field(default, default_factory, compare)


def record(cls: type | None = None, /, *, frozen: bool = True):
    """Make `cls` a frozen record of the fields annotated on it and its record bases (ClassVar ones excepted);
    `@record(frozen=False)`: one whose fields can be assigned (and which, as such a dataclass, has no hash)."""
    if cls is None:
        return lambda cls: _record(cls, frozen)
    return _record(cls, frozen)


def _record(cls: type, frozen: bool) -> type:
    fields: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(base.__dict__.get(_RECORD, {}))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if _is_classvar(annotation):
            continue
        spec = cls.__dict__.get(name, _MISSING)
        if not isinstance(spec, Field):
            spec = Field(spec)
        elif spec.default is _MISSING:
            delattr(cls, name)  # a field(default_factory=...) leaves no class attribute, as in a dataclass
        else:
            setattr(cls, name, spec.default)
        spec.annotation = annotation
        fields[name] = spec
    _check_order(cls, fields)
    setattr(cls, _RECORD, fields)
    field_names = tuple(fields)
    compared = tuple(name for name, spec in fields.items() if spec.compare)
    cls.__init__ = _init(cls, fields)
    cls.__repr__ = _repr(field_names)
    cls.__eq__ = _eq(attrgetter(*compared) if compared else _nothing)
    cls.__hash__ = _hash(attrgetter(*compared) if compared else _nothing) if frozen else None
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
    cls.__match_args__ = field_names
    cls.__dataclass_fields__ = _Twin("__dataclass_fields__")
    cls.__dataclass_params__ = _Twin("__dataclass_params__")
    cls.__signature__ = _Signature()
    cls._record_frozen = frozen
    return cls


def named_tuple(cls: type) -> type:
    """`class X(typing.NamedTuple)` without importing `typing` (~5 ms of every start-up): a named tuple of the
    fields annotated on `cls`, with their defaults, its docstring and methods."""
    annotations = cls.__dict__.get("__annotations__", {})
    fields = [name for name, annotation in annotations.items() if not _is_classvar(annotation)]
    defaults = [cls.__dict__[name] for name in fields if name in cls.__dict__]
    if any(name not in cls.__dict__ for name in fields[len(fields) - len(defaults) :]):
        raise TypeError(f"a field without a default follows one with a default in {cls.__qualname__}")
    made = namedtuple(cls.__name__, fields, defaults=defaults, module=cls.__module__)
    for key, value in cls.__dict__.items():
        if key not in fields and key not in ("__dict__", "__weakref__", "__module__"):
            setattr(made, key, value)
    made.__qualname__ = cls.__qualname__
    return made


def names(obj) -> tuple[str, ...] | None:
    """The field names of a record or a dataclass (a plugin's rule may be one), or of its class, in order; None for
    anything else."""
    fields = getattr(obj, _RECORD, None)
    if fields is not None:
        return tuple(fields)
    if not hasattr(obj, "__dataclass_fields__"):
        return None
    import dataclasses  # imported already: it made the class

    return tuple(found.name for found in dataclasses.fields(obj))


def replace(obj, /, **changes):
    """A copy of record `obj` with `changes` (dataclasses.replace)."""
    values = {name: getattr(obj, name) for name in getattr(obj, _RECORD)}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return obj.__class__(**values)


def _is_classvar(annotation) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    return text.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))


def _check_order(cls: type, fields: dict[str, Field]) -> None:
    seen_default = False
    for name, spec in fields.items():
        if spec.required and seen_default:
            raise TypeError(f"non-default argument {name!r} follows default argument in {cls.__qualname__}")
        seen_default = seen_default or not spec.required


def _nothing(_obj) -> tuple:
    return ()


def _init(cls: type, fields: dict[str, Field]):
    field_names = tuple(fields)
    count = len(field_names)
    defaults = {name: spec.default for name, spec in fields.items() if spec.default is not _MISSING}
    factories = {name: spec.default_factory for name, spec in fields.items() if spec.default_factory is not _MISSING}
    post_init = getattr(cls, "__post_init__", None) is not None
    qualname = cls.__qualname__

    def __init__(self, *args, **kwargs):
        if len(args) > count:
            raise TypeError(f"{qualname}() takes {count} positional arguments but {len(args)} were given")
        values = dict(zip(field_names, args))
        for name, value in kwargs.items():
            if name in values:
                raise TypeError(f"{qualname}() got multiple values for argument {name!r}")
            if name not in fields:
                raise TypeError(f"{qualname}() got an unexpected keyword argument {name!r}")
            values[name] = value
        state = self.__dict__
        for name in field_names:
            try:
                state[name] = values[name]
            except KeyError:
                if name in defaults:
                    state[name] = defaults[name]
                elif name in factories:
                    state[name] = factories[name]()
                else:
                    raise TypeError(f"{qualname}() missing required argument: {name!r}") from None
        if post_init:
            self.__post_init__()

    return __init__


def _repr(field_names: tuple[str, ...]):
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in field_names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _eq(key):
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hash(key):
    def __hash__(self) -> int:
        return hash(key(self))

    return __hash__


def _frozen_setattr(self, name: str, value) -> None:
    import dataclasses  # an error, not a start-up: dataclasses' own, so `except FrozenInstanceError` catches it

    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self, name: str) -> None:
    import dataclasses

    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


class _Twin:
    """`__dataclass_fields__` and `__dataclass_params__` of a record class, made when first asked for by
    `dataclasses` (its functions, or a dataclass subclassing the record) from the same fields: a dataclass of
    the same name, fields, annotations, defaults and frozenness (the twin), kept on the class."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, obj, owner: type):
        twin = owner.__dict__.get("_dataclass_twin")
        if twin is None:
            twin = _twin(owner)
            type.__setattr__(owner, "_dataclass_twin", twin)
        return getattr(twin, self.attribute)


class _Signature:
    """`__signature__` of a record class (inspect.signature, help()): its fields as the parameters of `__init__`,
    made when first asked for (inspect is imported then)."""

    def __get__(self, obj, owner: type):
        import inspect

        kind, empty = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty
        parameters = []
        for name, spec in getattr(owner, _RECORD).items():
            given = spec.given()
            default = given["default_factory"]() if "default_factory" in given else given.get("default", empty)
            parameters.append(inspect.Parameter(name, kind, default=default))
        return inspect.Signature(parameters)


def _twin(owner: type) -> type:
    import dataclasses

    namespace: dict = {"__annotations__": {}, "__module__": owner.__module__, "__qualname__": owner.__qualname__}
    for name, spec in getattr(owner, _RECORD).items():
        namespace["__annotations__"][name] = spec.annotation
        namespace[name] = dataclasses.field(compare=spec.compare, **spec.given())
    namespace["__doc__"] = owner.__doc__ or owner.__qualname__
    return dataclasses.dataclass(frozen=owner._record_frozen)(type(owner.__name__, (), namespace))
