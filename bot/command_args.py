"""Typed command arguments (`/grant 123 staff`, `/link 123 7`), parsed in one place.

Command arguments are as untrusted as callback data: they are checked with the same typed arguments as the
callback codec (`bot.callbacks`), so a huge, negative or non-numeric id is refused before it reaches the
database (where it would raise `OverflowError`/`DataError`), and the handler answers with its usage text.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.callbacks import Arg, CallbackError, Id, Int

#: A Telegram user id. Not a database serial: Telegram ids exceed 2³¹ (they have up to 52 significant bits);
#: the codec's integers are at most 12 digits, which covers every id Telegram hands out today.
USER_ID = Int(1, 999_999_999_999)
#: A database id (an institution): 1 … 2³¹−1, exactly the codec's `Id()`.
RECORD_ID = Id()


class ArgumentError(ValueError):
    """Command arguments that are missing, extra or out of range (the handler shows its usage text)."""


def parse_args(args: Sequence[str] | None, *types: Arg, optional: int = 0) -> tuple:
    """Parse `args` with `types`; the last `optional` of them may be missing (returned as None).

    Raises ArgumentError for too few or too many arguments, or one a type refuses.
    """
    args = list(args or [])
    required = len(types) - optional
    if not required <= len(args) <= len(types):
        raise ArgumentError("wrong number of arguments")
    values = []
    for index, arg_type in enumerate(types):
        if index >= len(args):
            values.append(None)
            continue
        try:
            values.append(arg_type.parse(args[index]))
        except CallbackError as error:
            raise ArgumentError(f"argument {index + 1} refused") from error
    return tuple(values)
