"""Register FEEL built-ins with their signatures, and invoke them the FEEL way.

Each built-in is registered with the signatures the DMN specification gives it, parameter names
included, because FEEL allows named invocation (``substring(string: "abc", start position: 2)``).
A signature is a text such as ``"string, start position, length?"``: ``?`` marks an optional
parameter and ``...`` a variadic tail. Several signatures for one name are overloads, tried in
order. Implementations raise ``FeelError`` for bad arguments; ``Builtin.invoke`` turns that into
null plus a warning. The library modules beside this one register into ``BUILTINS`` when the
package imports them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from service.sandbox import tick

from ..errors import UnknownName
from ..values import FeelFunction

BUILTINS: dict[str, "Builtin"] = {}


class FeelError(Exception):
    """A built-in was given arguments it cannot work on; FEEL makes the result null."""


class Mismatch(FeelError):
    """This overload does not take these argument types; the registry tries the next one."""


@dataclass(frozen=True)
class Signature:
    """One overload: parameter names, how many are required, and a variadic flag."""

    params: tuple[str, ...]
    required: int
    variadic: bool
    impl: Callable[..., Any]
    wants_scope: bool


def _parse_signature(text: str, impl, wants_scope: bool) -> Signature:
    params, required, variadic = [], 0, False
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part.endswith("..."):
            variadic = True
            part = part[:-3]
        elif part.endswith("?"):
            part = part[:-1]
        else:
            required += 1
        params.append(part)
    return Signature(tuple(params), required, variadic, impl, wants_scope)


class Builtin(FeelFunction):
    """A built-in FEEL function with one or more overloads."""

    __slots__ = ("signatures", "variadic")

    def __init__(self, name: str):
        super().__init__([], None, name=name)
        self.signatures: list[Signature] = []
        self.variadic = False

    def add(self, signature: Signature) -> None:
        self.signatures.append(signature)
        if len(self.signatures) == 1:
            self.params = list(signature.params)
        self.variadic = self.variadic or signature.variadic or len(self.signatures) > 1

    def _bind(self, sig: Signature, args: Sequence[Any], named: Mapping[str, Any] | None):
        if named is not None:
            if sig.variadic or not set(named) <= set(sig.params):
                return None
            if any(p not in named for p in sig.params[:sig.required]):
                return None
            last = max(sig.params.index(k) for k in named) if named else -1
            return [named.get(p) for p in sig.params[:last + 1]]
        if len(args) < sig.required:
            return None
        if not sig.variadic and len(args) > len(sig.params):
            return None
        return list(args)

    def invoke(self, args: Sequence[Any], named: Mapping[str, Any] | None, env: Any) -> Any:
        """Run the first overload that binds; its faults give null plus a warning.

        The budget is charged for the lists, contexts and strings the call is given (most
        built-ins walk them), so a loop calling ``count`` or ``list contains`` on a long list is
        stopped by its work, not only by its iterations.
        """
        work = _work(args) + (_work(named.values()) if named else 0)
        if work:
            tick(work)
        for sig in self.signatures:
            bound = self._bind(sig, args, named)
            if bound is None:
                continue
            try:
                if sig.wants_scope:
                    return sig.impl(env, *bound)
                return sig.impl(*bound)
            except Mismatch:
                continue
            except FeelError as exc:
                env.warn(f"{self.name}: {exc}")
                return None
            except (RecursionError, UnknownName):
                raise
            except (ArithmeticError, ValueError, TypeError, OverflowError) as exc:
                env.warn(f"{self.name}: {exc}")
                return None
        env.warn(f"{self.name}: no overload takes these arguments")
        return None


def _work(values) -> int:
    work = 0
    for value in values:
        t = type(value)
        if t is list or t is dict:
            work += len(value)
        elif t is str:
            work += len(value) >> 6
    return work


def builtin(name: str, *signatures: str, scope: bool = False):
    """Register the decorated function under ``name`` for each signature text."""
    def register(impl):
        target = BUILTINS.get(name)
        if target is None:
            target = BUILTINS[name] = Builtin(name)
        for text in signatures:
            target.add(_parse_signature(text, impl, scope))
        return impl
    return register

