"""One codec for every inline button's callback data: `prefix:action[:sub]:arg:arg…`.

Telegram hands back whatever string a button carried, and a client can forge any string up to 64 bytes, so
callback data is untrusted input. Each flow declares its actions once with typed arguments; `encode` builds
the data for a button (and refuses anything over Telegram's 64-byte limit), `decode` turns data back into an
action and typed values, or raises `CallbackError` for anything malformed, out of range or unknown. Handlers
never split callback data themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data
MAX_ID = 2**31 - 1  # the largest value an INTEGER primary key holds (PostgreSQL int4)
SEPARATOR = ":"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-.]+$")


class CallbackError(ValueError):
    """Callback data that is not something this bot could have sent (stale, forged or damaged)."""


class Arg:
    """One typed argument of an action: `parse` checks and converts, `format` renders."""

    def parse(self, raw: str) -> object:  # pragma: no cover - interface
        raise NotImplementedError

    def format(self, value: object) -> str:
        return str(value)


@dataclass(frozen=True)
class Int(Arg):
    """An integer in [low, high] written in plain ASCII digits (optionally negative when low < 0)."""

    low: int = 0
    high: int = MAX_ID

    def parse(self, raw: str) -> int:
        digits = raw[1:] if raw.startswith("-") else raw
        if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 12:
            raise CallbackError("not an integer")
        value = int(raw)
        if not self.low <= value <= self.high:
            raise CallbackError("integer out of range")
        return value

    def format(self, value: object) -> str:
        if not isinstance(value, int) or isinstance(value, bool) or not self.low <= value <= self.high:
            raise CallbackError("integer out of range")
        return str(value)


def Id() -> Int:  # noqa: N802 - reads like a type in action declarations
    """A database id: 1 … 2³¹−1."""
    return Int(1, MAX_ID)


@dataclass(frozen=True)
class Choice(Arg):
    """One of a fixed set of words."""

    values: tuple[str, ...]

    def parse(self, raw: str) -> str:
        if raw not in self.values:
            raise CallbackError("unknown choice")
        return raw

    def format(self, value: object) -> str:
        if value not in self.values:
            raise CallbackError("unknown choice")
        return str(value)


@dataclass(frozen=True)
class IsoDate(Arg):
    """A calendar date as YYYY-MM-DD."""

    def parse(self, raw: str) -> date:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise CallbackError("not a date")
        try:
            return date.fromisoformat(raw)
        except ValueError as error:
            raise CallbackError("not a date") from error

    def format(self, value: object) -> str:
        if not isinstance(value, date):
            raise CallbackError("not a date")
        return value.isoformat()


@dataclass(frozen=True)
class Token(Arg):
    """A short ASCII word (letters, digits, `_-.`, or what `pattern` allows), e.g. a field code or a doc id."""

    max_length: int = 16
    pattern: str = _TOKEN_RE.pattern

    def parse(self, raw: str) -> str:
        if not raw or len(raw) > self.max_length or not re.fullmatch(self.pattern, raw):
            raise CallbackError("bad token")
        return raw

    def format(self, value: object) -> str:
        return self.parse(str(value))


@dataclass(frozen=True)
class Optional(Arg):
    """`inner`, or None written as `none` (default "x") — e.g. a filter set back to "any"."""

    inner: Arg
    none: str = "x"

    def parse(self, raw: str) -> object:
        return None if raw == self.none else self.inner.parse(raw)

    def format(self, value: object) -> str:
        return self.none if value is None else self.inner.format(value)


@dataclass(frozen=True)
class Decoded:
    """A decoded button: the action's name (e.g. "inst" or "set:age") and its typed arguments."""

    action: str
    args: tuple

    def __iter__(self):
        return iter(self.args)


REGISTRY: dict[str, CallbackCodec] = {}  # every codec by prefix: one prefix, one flow (tests walk them all)


class CallbackCodec:
    """The actions of one flow under one prefix (e.g. "care"), each with its typed arguments."""

    def __init__(self, prefix: str):
        if not _TOKEN_RE.match(prefix) or SEPARATOR in prefix:
            raise ValueError(f"bad prefix {prefix!r}")
        if prefix in REGISTRY:
            raise ValueError(f"callback prefix {prefix!r} is used by two codecs")
        self.prefix = prefix
        self._actions: dict[str, tuple[Arg, ...]] = {}
        REGISTRY[prefix] = self

    @property
    def pattern(self) -> str:
        """The regular expression a CallbackQueryHandler uses to route every button of this flow here."""
        return rf"^{re.escape(self.prefix)}{SEPARATOR}"

    @property
    def actions(self) -> dict[str, tuple[Arg, ...]]:
        """Declared actions and their argument types (read-only use: tests walk them)."""
        return dict(self._actions)

    def action(self, name: str, *args: Arg) -> str:
        """Declare an action; `name` may have several parts ("set:age"), or be "" for a flow with one action
        whose data is just `prefix:arg…` (e.g. `src:<doc id>:<n>`). Returns the name."""
        if name in self._actions:
            raise ValueError(f"action {name!r} declared twice")
        if name and not all(_TOKEN_RE.match(part) for part in name.split(SEPARATOR)):
            raise ValueError(f"bad action name {name!r}")
        self._actions[name] = tuple(args)
        return name

    def encode(self, action: str, *values: object) -> str:
        """The callback data for a button; raises CallbackError if it is malformed or over 64 bytes."""
        try:
            arg_types = self._actions[action]
        except KeyError as error:
            raise CallbackError(f"unknown action {action!r}") from error
        if len(values) != len(arg_types):
            raise CallbackError(f"{action!r} takes {len(arg_types)} arguments")
        name_parts = [action] if action else []
        parts = [self.prefix, *name_parts, *(arg.format(value) for arg, value in zip(arg_types, values, strict=True))]
        data = SEPARATOR.join(parts)
        if len(data.encode("utf-8")) > CALLBACK_LIMIT:
            raise CallbackError("callback data over 64 bytes")
        return data

    def decode(self, data: str | None) -> Decoded:
        """The action and typed arguments a button carried; CallbackError for anything else."""
        if not data or len(data.encode("utf-8", "surrogatepass")) > CALLBACK_LIMIT:
            raise CallbackError("empty or oversized")
        parts = data.split(SEPARATOR)
        if parts[0] != self.prefix:
            raise CallbackError("other prefix")
        rest = parts[1:]
        # Longest action name first, so "set:age" wins over a hypothetical "set"; the unnamed action last.
        for name in sorted(self._actions, key=lambda n: (not n, -n.count(SEPARATOR))):
            name_parts = name.split(SEPARATOR) if name else []
            if rest[: len(name_parts)] != name_parts:
                continue
            raw_args = rest[len(name_parts):]
            arg_types = self._actions[name]
            if len(raw_args) != len(arg_types):
                raise CallbackError("wrong number of arguments")
            return Decoded(name, tuple(arg.parse(raw) for arg, raw in zip(arg_types, raw_args, strict=True)))
        raise CallbackError("unknown action")


def sample_malformed(codec: CallbackCodec) -> Sequence[str]:
    """Forged variants of every action of `codec`, for tests: huge, negative, non-numeric, missing, extra."""
    bad_values = ("", "-5", "0", "abc", "99999999999999999999", "1e3", "٣", "x" * 80, "\ud800", "%00", "1.5")
    forged = [codec.prefix, f"{codec.prefix}:", f"{codec.prefix}:nope", f"{codec.prefix}:" + "a" * 70]
    for name, arg_types in codec.actions.items():
        base = f"{codec.prefix}:{name}" if name else codec.prefix
        forged.append(base + ":1" * (len(arg_types) + 1))  # one argument too many
        if arg_types:
            forged.append(base)  # arguments missing
        for position in range(len(arg_types)):
            for bad in bad_values:
                args = ["1"] * len(arg_types)
                args[position] = bad
                forged.append(SEPARATOR.join([base, *args]))
    return forged
