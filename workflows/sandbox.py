"""The sandbox of the mailings' templates, with a budget enforced while they render.

Jinja's immutable sandbox keeps a template away from Python's insides and from changing what
it is given. This one also keeps each render within a :class:`Budget`, checked as it goes
(never only afterwards, when the memory is spent):

- **time**: the CPU time of the rendering thread is checked at every step of a loop, call,
  attribute or item read, operator, filter and output, so a loop that would run for minutes
  stops at the budget (in the web process and in a worker alike, whatever the thread);
- **size**: the text written is counted as it is produced and stops past ``Budget.chars``;
  no string or list the template builds on the way — by ``~``, ``+``, ``*``, ``%``, ``format``,
  ``center``, ``indent``, ``replace``, ``join``, ``wordwrap``, a slice, a method of a string… —
  may be longer than that either, and each is refused *before* it is built; and all it builds
  together may not exceed ``WORK`` times the budget (a loop building many large strings).

Nothing here knows the mailings: ``workflows.mailings`` renders through :func:`render`.
"""

from __future__ import annotations

import inspect
import re
import time
import types
from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from contextvars import ContextVar
from dataclasses import dataclass
from functools import update_wrapper
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.filters import make_attrgetter
from jinja2.runtime import Namespace, Undefined, markup_join, str_join
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
    SecurityError,
    safe_range,
)
from jinja2.utils import pass_context
from markupsafe import Markup

#: All a render may build together, in multiples of its size budget.
WORK = 20
#: A subject is one line: its render's size budget.
SUBJECT_CHARS = 20_000
#: The largest integer a template may compute (in bits; about 1,200 digits).
MAX_INT_BITS = 4_096
#: How many steps between two looks at the clock (reading it costs more than a step).
_TICKS = 16
#: The names that ``dict.name`` finds as an attribute (a method) before any key.
_DICT_ATTRIBUTES = frozenset(dir(dict))


@dataclass(frozen=True)
class Budget:
    """What one render may spend: ``seconds`` of CPU time, and ``chars``, the longest text it
    may write or build on the way."""

    seconds: float = 0.5
    chars: int = 200_000

    def for_subject(self) -> Budget:
        return Budget(seconds=self.seconds / 5, chars=min(self.chars, SUBJECT_CHARS))


class OverBudget(SecurityError):
    """A render went past its budget; ``kind`` is ``"time"`` or ``"size"``."""

    def __init__(self, kind: str, budget: Budget) -> None:
        self.kind, self.budget = kind, budget
        limit = f"{budget.seconds:g} s" if kind == "time" else f"{budget.chars} characters"
        super().__init__(f"the template went past its {kind} budget ({limit})")


class _Meter:
    """One render's account of its budget (kept in a context variable: per thread)."""

    __slots__ = ("budget", "limit", "deadline", "allowance", "ticks")

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.limit = budget.chars
        self.deadline = time.thread_time() + budget.seconds
        self.allowance = budget.chars * WORK
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1
        if not self.ticks % _TICKS and time.thread_time() > self.deadline:
            raise OverBudget("time", self.budget)

    def fits(self, size: int) -> None:
        """A value of about ``size`` characters is about to be built: refuse it if too long."""
        if size > self.limit:
            raise OverBudget("size", self.budget)
        self.tick()

    def made(self, size: int) -> None:
        """As ``fits``, and count it in all that the render builds."""
        self.allowance -= size
        if size > self.limit or self.allowance < 0:
            raise OverBudget("size", self.budget)
        self.tick()


class _Unmetered(_Meter):
    """Outside a render (Jinja folding constants while compiling): sizes only."""

    def tick(self) -> None:
        pass

    def made(self, size: int) -> None:
        if size > self.limit:
            raise OverBudget("size", self.budget)


_METER: ContextVar[_Meter | None] = ContextVar("template_meter", default=None)
_UNMETERED = _Unmetered(Budget())


def _meter() -> _Meter:
    return _METER.get() or _UNMETERED


def render(template: Template, context: Mapping[str, Any], budget: Budget) -> str:
    """The template's text for ``context``, within ``budget`` (else :class:`OverBudget`)."""
    meter = _Meter(budget)
    token = _METER.set(meter)
    parts = template.generate(context)
    try:
        written, size = [], 0
        for part in parts:
            size += len(part)
            if size > budget.chars:
                raise OverBudget("size", budget)
            written.append(part)
        return "".join(written)
    finally:
        parts.close()  # type: ignore[attr-defined]  # typed an Iterator, it is a generator
        _METER.reset(token)


# -- how big a value would be, written -------------------------------------------------------


def weight(value: Any) -> int:
    """About how many characters ``str(value)`` would write — within a small factor, without
    writing them. A part shared by several containers counts each time it appears (so a list
    of a million references to one string weighs what printing it would)."""
    if isinstance(value, str):
        return len(value)
    return _weight(value, {}, set(), 0)


def _weight(value: Any, memo: dict[int, int], path: set[int], depth: int) -> int:
    if isinstance(value, str):
        return len(value)
    if value is None or isinstance(value, bool | float):
        return 24
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, Undefined | range):
        return 24
    if isinstance(value, Namespace):
        value = value._Namespace__attrs  # noqa: SLF001 - what its repr prints
    if isinstance(value, Mapping | ItemsView):
        pairs = value.items() if isinstance(value, Mapping) else value
        children: Iterable[Any] = (x for pair in pairs for x in pair)
    elif isinstance(value, list | tuple | set | frozenset | KeysView | ValuesView):
        children = value
    else:
        return 64  # an object: its repr is short
    key = id(value)
    if key in memo:
        return memo[key]
    if key in path:
        return 8  # a cycle: repr writes "[...]"
    if depth > 100:
        raise SecurityError("values nested too deeply")
    path.add(key)
    total = sum(_weight(child, memo, path, depth + 1) + 2 for child in children)
    path.discard(key)
    memo[key] = total
    return total


# -- the size of what an operation would build, before it builds it ------------------------

_PRINTF = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?"
    r"[hlL]?(?P<type>[diouxXeEfFgGcrsa%])"
)


def _printf_size(template: str, values: Any) -> int:
    """An upper bound of the length of ``template % values``."""
    factor = 6 if isinstance(template, Markup) else 1  # Markup escapes what it inserts
    positional = values if isinstance(values, tuple) else (values,)
    mapping = values if isinstance(values, Mapping) else None
    index, size = 0, len(template)

    def next_value() -> Any:
        nonlocal index
        value = positional[index] if index < len(positional) else None
        index += 1
        return value

    for spec in _PRINTF.finditer(template):
        if spec["type"] == "%":
            continue
        numbers = []
        for part in (spec["width"], spec["precision"]):
            if part == "*":
                numbers.append(_int(next_value()))
            elif part:
                numbers.append(int(part))
        value = mapping.get(spec["key"]) if mapping is not None and spec["key"] else next_value()
        written = weight(value) * (10 if spec["type"] in "ra" else 1)
        size += sum(abs(n) for n in numbers) + 320 + written * factor
    return size


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _replaced_size(s: Any, old: Any, new: Any, count: Any) -> int:
    if not (isinstance(s, str) and isinstance(old, str) and isinstance(new, str)):
        return weight(s)
    times = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(s) + times * max(len(new) - len(old), 0)


def _joined_size(meter: _Meter, items: list[Any], separator: Any) -> int:
    """About the length of ``separator.join(items)`` — refused as soon as it is too long."""
    gap, size = weight(separator), 0
    for item in items:
        size += weight(item) + gap
        meter.fits(size)
    return size


#: What a bound method of a built-in value may be called in a template (the rest are refused).
_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        "capitalize casefold center count endswith expandtabs find format format_map index "
        "isalnum isalpha isascii isdecimal isdigit isidentifier islower isnumeric isprintable "
        "isspace istitle isupper join ljust lower lstrip partition removeprefix removesuffix "
        "replace rfind rindex rjust rpartition rsplit rstrip split splitlines startswith strip "
        "swapcase title upper zfill striptags unescape".split()
    ),
    list: frozenset({"index", "count", "copy"}),
    tuple: frozenset({"index", "count"}),
    range: frozenset({"index", "count"}),
    dict: frozenset({"get", "items", "keys", "values", "copy"}),
    int: frozenset({"bit_length", "bit_count", "conjugate"}),
    float: frozenset({"is_integer", "conjugate"}),
}


def _check_method(meter: _Meter, owner: Any, name: str, args: tuple, kwargs: dict) -> tuple:
    """Refuse a method a template has no business calling, or a call that would build too
    long a string; returns the arguments to call it with (an iterable read once)."""
    kind = next((k for k in _METHODS if isinstance(owner, k)), None)
    if kind is None or name not in _METHODS[kind]:
        raise SecurityError(f"{type(owner).__name__}.{name}() is not available in a template")
    if kind is not str:
        return args
    factor = 6 if isinstance(owner, Markup) else 1  # Markup escapes what it inserts
    if name in ("center", "ljust", "rjust", "zfill") and args:
        meter.fits(_int(args[0]))
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        meter.fits(len(owner) + owner.count("\t") * max(_int(tabsize), 0))
    elif name == "replace" and len(args) >= 2:
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        meter.fits(_replaced_size(owner, args[0], args[1], count) * factor)
    elif name == "join" and args:
        items = list(args[0])
        meter.fits(_joined_size(meter, items, owner) * factor)
        return (items, *args[1:])
    return args


# -- filters ---------------------------------------------------------------------------------

#: Filters a plain-text email has no use for (HTML, JSON, debugging output).
_DROPPED = frozenset({"pprint", "tojson", "urlize", "xmlattr"})
#: Filters that write their value as text (a container is written whole).
_STRINGIFYING = frozenset(
    "capitalize center e escape filesizeformat float forceescape format indent int lower "
    "replace safe string striptags title trim truncate upper urlencode wordcount wordwrap".split()
)


def _check_center(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    meter.fits(max(weight(a["value"]), _int(a["width"])))


def _check_indent(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    width, text = a["width"], a["s"]
    indention = len(width) if isinstance(width, str) else max(_int(width), 0)
    lines = text.count("\n") + 1 if isinstance(text, str) else 1
    meter.fits(weight(text) + lines * indention)


def _check_replace(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    # The filter writes the three as text (each already measured: a container's text is short).
    s, old, new = (a[k] if isinstance(a[k], str) else str(a[k]) for k in ("s", "old", "new"))
    meter.fits(_replaced_size(s, old, new, a["count"] if a["count"] is not None else -1))


def _check_join(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    items = list(a["value"])
    a["value"] = items
    if a["attribute"] is not None:
        getter = make_attrgetter(env, a["attribute"])
        items = [getter(item) for item in items]
    meter.fits(_joined_size(meter, items, a["d"]))


def _check_format(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    template = a["value"] if isinstance(a["value"], str) else str(a["value"])  # (measured)
    meter.fits(_printf_size(template, a["kwargs"] or a["args"]))


def _check_wordwrap(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    text, wrap = a["s"], a["wrapstring"] or env.newline_sequence
    if isinstance(text, str):
        lines = len(text) // max(_int(a["width"]), 1) + text.count("\n") + 1
        meter.fits(len(text) + lines * weight(wrap))


def _check_batch(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    meter.fits(_int(a["linecount"]))


def _check_slice(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    meter.fits(_int(a["slices"]))


def _check_sum(meter: _Meter, env: Any, a: dict[str, Any]) -> None:
    """Adding lists copies them at each step: refuse a long list or a quadratic cost."""
    items = list(a["iterable"])
    a["iterable"] = items
    if a["attribute"] is not None:
        getter = make_attrgetter(env, a["attribute"])
        items = [getter(item) for item in items]
    sized = [x for x in (a["start"], *items) if isinstance(x, str | list | tuple)]
    if sized:
        total = sum(len(x) for x in sized)
        meter.fits(total)
        if total * len(sized) > meter.budget.chars * WORK:
            raise OverBudget("time", meter.budget)


_CHECKS: dict[str, Callable[[_Meter, Any, dict[str, Any]], None]] = {
    "center": _check_center,
    "indent": _check_indent,
    "replace": _check_replace,
    "join": _check_join,
    "format": _check_format,
    "wordwrap": _check_wordwrap,
    "batch": _check_batch,
    "slice": _check_slice,
    "sum": _check_sum,
}


def _guard(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """The filter ``func`` within the budget: its arguments measured before it runs (a string
    it would make too long refused), what it writes counted. It takes the context, so Jinja
    never runs it while compiling, outside a render's budget."""
    passes = getattr(getattr(func, "jinja_pass_arg", None), "name", None)
    check = _CHECKS.get(name)
    signature = inspect.signature(func) if check else None
    stringifies = name in _STRINGIFYING

    def guarded(context: Any, *args: Any, **kwargs: Any) -> Any:
        meter = _meter()
        meter.tick()
        if stringifies:
            for value in (*args, *kwargs.values()):
                meter.fits(weight(value))
        passed: dict[str | None, tuple[Any, ...]] = {
            "context": (context,),
            "eval_context": (context.eval_ctx,),
            "environment": (context.environment,),
        }
        first = passed.get(passes, ())
        if check is not None and signature is not None:  # (one is set with the other)
            bound = signature.bind(*first, *args, **kwargs)
            bound.apply_defaults()
            check(meter, context.environment, bound.arguments)
            result = func(*bound.args, **bound.kwargs)
        else:
            result = func(*first, *args, **kwargs)
        if isinstance(result, str):
            meter.made(len(result))
        return result

    guarded.__name__ = f"budgeted_{name}"
    guarded.__doc__ = func.__doc__
    return pass_context(guarded)


# -- the environment -------------------------------------------------------------------------


class _CodeGenerator(CodeGenerator):
    """Jinja's compiler, with every loop metered and ``~`` measured before it joins."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not getattr(node.iter, "metered_loop", False):  # (a recursive loop visits it twice)
            metered = nodes.EnvironmentAttribute("metered", lineno=node.iter.lineno)
            node.iter = nodes.Call(metered, [node.iter], [], None, None, lineno=node.iter.lineno)
            node.iter.metered_loop = True  # type: ignore[attr-defined]  # our mark on the node
        super().visit_For(node, frame)

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        if getattr(node, "metered_loop", False):  # straight, not through the sandbox's call
            self.write("environment.metered(")
            self.visit(node.args[0], frame)
            self.write(")")
        else:
            super().visit_Call(node, frame, forward_caller=forward_caller)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            escape = "context.eval_ctx.autoescape"
        else:
            escape = repr(bool(frame.eval_ctx.autoescape))
        self.write("environment.join_parts((")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write(f"), {escape})")


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}`` written: measured (a container by what printing it writes)."""
    meter = _METER.get()
    if meter is not None:
        meter.made(len(value) if isinstance(value, str) else weight(value))
    return value


def _range(*args: int) -> range:
    """``range``, at most 100,000 long (its loops are metered at each step)."""
    _meter().tick()
    return safe_range(*args)


class _MeasuredFormatter:
    """``str.format`` fields measured before they are written."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        meter = _meter()
        for number in re.findall(r"\d+", format_spec):
            meter.fits(int(number))
        meter.fits(weight(value))
        text = super().format_field(value, format_spec)  # type: ignore[misc]
        meter.made(len(text))
        return text

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion in ("r", "a"):
            _meter().fits(weight(value) * 10)
        return super().convert_field(value, conversion)  # type: ignore[misc]


class _Formatter(_MeasuredFormatter, SandboxedFormatter):
    pass


class _EscapeFormatter(_MeasuredFormatter, SandboxedEscapeFormatter):
    pass


class BudgetedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with the budget of :func:`render` enforced at every step."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"+", "*", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _range
        self.filters = {
            name: _guard(name, func) for name, func in self.filters.items() if name not in _DROPPED
        }

    def metered(self, iterable: Any) -> Any:
        meter = _METER.get()
        return iterable if meter is None else _steps(meter, iterable)

    def join_parts(self, parts: tuple[Any, ...], escape: bool) -> str:
        _meter().made(sum(weight(part) for part in parts))
        return markup_join(parts) if escape else str_join(parts)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        meter = _meter()
        meter.tick()
        if operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                meter.made(weight(left) + weight(right))
        elif operator == "*":
            for sized, times in ((left, right), (right, left)):
                if isinstance(sized, str | list | tuple) and isinstance(times, int):
                    meter.made(weight(sized) * max(times, 0) if sized else 0)
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise SecurityError(f"a number of more than {MAX_INT_BITS} bits")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
                if left.bit_length() * min(right, MAX_INT_BITS + 1) > MAX_INT_BITS:
                    raise SecurityError(f"a number of more than {MAX_INT_BITS} bits")
        elif operator == "%" and isinstance(left, str):
            meter.fits(_printf_size(left, right))
            result = super().call_binop(context, operator, left, right)
            meter.made(len(result))
            return result
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _meter().tick()
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES and attribute in obj:
            # What Jinja finds too, once ``getattr`` has raised (a mailing's context is
            # dicts: its placeholders read them tens of times per message).
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        meter = _meter()
        meter.tick()
        value = super().getitem(obj, argument)
        if isinstance(argument, slice) and isinstance(value, str | list | tuple):
            meter.made(len(value))
        return value

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        meter = _meter()
        meter.tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) or (
            isinstance(__obj, types.BuiltinMethodType) and not isinstance(owner, types.ModuleType)
        ):
            args = _check_method(meter, owner, __obj.__name__, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str):
            meter.made(len(result))
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``format_map``, sandboxed as Jinja does, fields measured."""
        if not isinstance(value, types.MethodType | types.BuiltinMethodType) or (
            value.__name__ not in ("format", "format_map")
        ):
            return None
        owner = value.__self__
        if not isinstance(owner, str):
            return None
        kind, is_map = type(owner), value.__name__ == "format_map"
        formatter: SandboxedFormatter = (
            _EscapeFormatter(self, escape=owner.escape)
            if isinstance(owner, Markup)
            else _Formatter(self)
        )

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            return kind(formatter.vformat(owner, args, kwargs))

        return update_wrapper(wrapper, value)


def _steps(meter: _Meter, iterable: Any) -> Iterator[Any]:
    """The items of a loop, with a look at the clock every few (the step itself is cheap)."""
    deadline, clock = meter.deadline, time.thread_time
    for step, item in enumerate(iterable, 1):
        if not step % _TICKS and clock() > deadline:
            raise OverBudget("time", meter.budget)
        yield item
