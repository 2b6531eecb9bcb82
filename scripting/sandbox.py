"""The jinja2 environment for script texts: sandboxed, escaping that can't be turned off, bounded.

Two jobs, both enforced by the environment itself so that they hold even for a template
that skipped ``scripting.render.check_template`` (defence in depth):

- **No way to mark text safe.** Autoescape is on and ``{% autoescape %}`` blocks (the only
  template syntax that changes it) don't compile; the ``safe`` filter and every other filter
  that returns ``Markup`` are absent; ``Markup`` and ``__html__`` are out of reach (no
  globals, ``_`` attributes refused by the sandbox). A customer called
  ``<img src=x onerror=alert(1)>`` is always rendered escaped.
- **Bounded resources.** The optimizer is off and ``*``, ``**``, ``+`` and ``%`` are
  intercepted, so jinja2 folds none of them at compile time (a ``{{ 'a' * 100000000 }}``
  costs nothing to validate); at render every repetition, power, concatenation (``+``,
  ``~``) and ``replace`` is checked *before* it allocates, numbers stay small, every
  filter's output is counted, the text a render builds in total is capped
  (:data:`MAX_RENDER_CHARS`, as ``set`` can keep many values), the whole output of a step
  is capped at :data:`MAX_OUTPUT_CHARS` and a render has a time budget
  (:data:`RENDER_BUDGET_SECONDS`; a job such as validating a whole script can set an outer
  one with :func:`job_budget`). ``range`` does not exist (no globals, no calls) and would be
  bounded by the sandbox's own ``MAX_RANGE`` anyway.

Refusals raise :class:`LimitExceeded` (a ``SecurityError``) with a pt-BR message the
supervisor reads in the script editor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import do_replace
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_eval_context

#: Characters one step may render to (and the largest text any operation may build).
MAX_OUTPUT_CHARS = 20_000
#: Largest integer a template may compute (in bits): counters and percentages, not bignums.
MAX_INT_BITS = 64
#: CPU seconds one render may take before it is abandoned.
RENDER_BUDGET_SECONDS = 1.0

ALLOWED_FILTERS = frozenset(
    {"capitalize", "default", "e", "escape", "length", "lower", "replace", "title", "trim", "truncate", "upper"}
)
#: Operators whose operands are checked at render; intercepting them also stops constant folding.
INTERCEPTED_BINOPS = frozenset({"*", "**", "+", "%"})


class LimitExceeded(SecurityError):
    """A template that would mark text safe or exceed a resource limit; the message is pt-BR."""


#: Characters all the operations of one render may build together (``set`` can keep many values).
MAX_RENDER_CHARS = 1_000_000


class _Budget:
    """What the render under way may still spend: time until ``deadline``, and characters built."""

    __slots__ = ("chars", "deadline", "seconds")

    def __init__(self, deadline: float, seconds: float) -> None:
        self.deadline = deadline
        self.seconds = seconds  # the limit the refusal names
        self.chars = 0


# The budget of the render (or job) running in this thread or task; None outside a render.
_budget: ContextVar[_Budget | None] = ContextVar("script_render_budget", default=None)
# An outer deadline for a whole job (a script's validation): no render inside outlives it.
_job_deadline: ContextVar[tuple[float, float] | None] = ContextVar("script_job_deadline", default=None)


def format_count(n: int) -> str:
    """``20000`` -> ``"20.000"`` (pt-BR thousands) for messages."""
    return f"{n:,}".replace(",", ".")


def check_deadline() -> None:
    """Raises once the current render (or the job around it) has used its time."""
    budget = _budget.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise LimitExceeded(f"o texto demorou demais para ser montado (limite de {budget.seconds:g} s)")


def charge(chars: int) -> None:
    """Counts ``chars`` built by the current render; refuses past :data:`MAX_RENDER_CHARS`."""
    budget = _budget.get()
    if budget is None:
        return
    budget.chars += chars
    if budget.chars > MAX_RENDER_CHARS:
        raise LimitExceeded(f"o texto monta mais de {format_count(MAX_RENDER_CHARS)} caracteres no total")


@contextmanager
def render_budget(seconds: float = RENDER_BUDGET_SECONDS) -> Iterator[None]:
    """Runs one render with its own budget (per thread/task, so concurrent renders don't share it)."""
    deadline = time.monotonic() + seconds
    job = _job_deadline.get()
    if job is not None and job[0] < deadline:
        token = _budget.set(_Budget(*job))
    else:
        token = _budget.set(_Budget(deadline, seconds))
    try:
        yield
    finally:
        _budget.reset(token)


@contextmanager
def job_budget(seconds: float) -> Iterator[None]:
    """Runs a job of several renders (validating a script): none of them runs past ``seconds`` from now."""
    token = _job_deadline.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _job_deadline.reset(token)


def _size(value: Any) -> int | None:
    """Length of a text or sequence operand; None for numbers and everything else."""
    if isinstance(value, (str, list, tuple)):
        return len(value)
    return None


def _too_long(size: int) -> LimitExceeded:
    return LimitExceeded(f"o resultado teria {format_count(size)} caracteres (limite de {format_count(MAX_OUTPUT_CHARS)} por passo)")


def _check_int(value: Any) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise LimitExceeded("número grande demais para um roteiro")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuses an operation whose result would be too large, before computing it."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(times, int):
                if size * max(times, 0) > MAX_OUTPUT_CHARS:
                    raise _too_long(size * times)
                return
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise LimitExceeded("número grande demais para um roteiro")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            if right > MAX_INT_BITS or left.bit_length() * max(right, 0) > MAX_INT_BITS + 1:
                raise LimitExceeded("potência grande demais para um roteiro")
        elif isinstance(right, (int, float)) and abs(right) > 1024:
            raise LimitExceeded("potência grande demais para um roteiro")
    elif operator == "+":
        left_size, right_size = _size(left), _size(right)
        if left_size is not None and right_size is not None and left_size + right_size > MAX_OUTPUT_CHARS:
            raise _too_long(left_size + right_size)
    elif operator == "%" and isinstance(left, str):
        # "%0100000000d" % 1 would allocate 100 MB; a script never needs printf formatting
        raise LimitExceeded("formatação de texto com % não é permitida")


@pass_eval_context
def _bounded_replace(eval_ctx: EvalContext, s: Any, old: Any, new: Any, count: int | None = None) -> str:
    check_deadline()
    text, old_s, new_s = str(s), str(old), str(new)
    hits = (len(text) + 1 if not old_s else text.count(old_s)) if count is None or count < 0 else count
    size = len(text) + max(hits, 0) * (len(new_s) - len(old_s))
    if size > MAX_OUTPUT_CHARS:
        raise _too_long(size)
    return do_replace(eval_ctx, s, old, new, count)


def _charged(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its text output counted against the render budget (escape can grow text 6x)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        check_deadline()
        result = fn(*args, **kwargs)
        if isinstance(result, str):
            if len(result) > MAX_OUTPUT_CHARS:
                raise _too_long(len(result))
            charge(len(result))
        return result

    pass_arg = getattr(fn, "jinja_pass_arg", None)
    if pass_arg is not None:
        run.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    run.__name__ = f"bounded_{name}"
    return run


class _NoUnsafeCodeGenerator(CodeGenerator):
    """Compiles no construct that changes escaping: ``{% autoescape %}`` and the safe-marking nodes."""

    def visit_EvalContextModifier(self, node: nodes.EvalContextModifier, frame: Frame) -> None:
        raise LimitExceeded("o escape do texto não pode ser desligado ({% autoescape %} não é permitido)")

    def visit_ScopedEvalContextModifier(self, node: nodes.ScopedEvalContextModifier, frame: Frame) -> None:
        raise LimitExceeded("o escape do texto não pode ser desligado ({% autoescape %} não é permitido)")

    def visit_MarkSafe(self, node: nodes.MarkSafe, frame: Frame) -> None:
        raise LimitExceeded("marcar texto como seguro não é permitido")

    def visit_MarkSafeIfAutoescape(self, node: nodes.MarkSafeIfAutoescape, frame: Frame) -> None:
        raise LimitExceeded("marcar texto como seguro não é permitido")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # "a ~ b": the same join jinja2 writes, with the operands' sizes checked before joining
        join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.bounded_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class ScriptSandbox(ImmutableSandboxedEnvironment):
    """The sandbox for script texts (see the module docstring for what it refuses)."""

    intercepted_binops = INTERCEPTED_BINOPS
    code_generator_class = _NoUnsafeCodeGenerator

    def __init__(self) -> None:
        # optimized=False: no compile-time constant folding of filters, tests or expressions
        super().__init__(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=False, optimized=False)
        self.globals.clear()
        builtin = dict(self.filters, replace=_bounded_replace)
        self.filters = {name: _charged(name, builtin[name]) for name in ALLOWED_FILTERS}
        self.tests = {}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        check_deadline()
        _check_binop(operator, left, right)
        try:
            result = super().call_binop(context, operator, left, right)
        except OverflowError:
            raise LimitExceeded("número grande demais para um roteiro") from None
        _check_int(result)
        if isinstance(result, (str, list, tuple)):
            charge(len(result))
        return result

    def bounded_concat(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        check_deadline()
        size = sum(len(p) if isinstance(p, str) else len(str(p)) for p in parts)
        if size > MAX_OUTPUT_CHARS:
            raise _too_long(size)
        charge(size)
        return join(parts)

    def getattr(self, obj: Any, attribute: str) -> Any:
        check_deadline()
        return super().getattr(obj, attribute)


@lru_cache(maxsize=512)
def _compiled(env: ScriptSandbox, source: str) -> Template:
    """A step's compiled template: every pop renders the same few texts, so compile each once."""
    return env.from_string(source)


def render_bounded(env: ScriptSandbox, source: str, variables: dict[str, Any]) -> str:
    """Renders ``source`` chunk by chunk, stopping as soon as the output passes the cap."""
    with render_budget():
        template = _compiled(env, source)
        out: list[str] = []
        size = 0
        for chunk in template.generate(variables):
            check_deadline()
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise LimitExceeded(
                    f"o texto do passo passa de {format_count(MAX_OUTPUT_CHARS)} caracteres"
                )
            out.append(chunk)
        return "".join(out)
