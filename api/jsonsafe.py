"""Decoding JSON that came from outside into values every store can keep.

:func:`loads` is :func:`json.loads` that refuses, by the JSON path of the offending value, what
Python's decoder accepts but the catalog cannot store or serve back:

- ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON; Python accepts them), and numbers too large
  for a float (``1e400``, which Python turns into infinity);
- nesting deeper than a limit, found by a scan of the text before anything is decoded, so that no
  decoder, serialiser or recursive walk downstream meets a ``RecursionError``;
- NUL characters (PostgreSQL's ``text`` and ``jsonb`` cannot hold them) and lone surrogates
  (``"\\ud800"``: not Unicode, so not encodable as UTF-8), in keys as in strings.

Valid input costs a few passes of C-speed searches over the text (about 40 ms a megabyte when
it nests, nothing for a small event); the walk that names a path runs only when they find
something suspect.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

__all__ = ["JSONError", "loads"]

# A JSON string, escapes included (the unrolled form: linear, no backtracking).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_ARRAY = re.compile(r"\s*\[")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.DOTALL)
# The escape of a NUL or of a surrogate: a valid pair matches too; the walk then finds nothing.
_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_BAD_CHAR = re.compile(r"[\x00\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff.\[\]\"\\ ]{1,64}")


class JSONError(ValueError):
    """A decodable document holding something the catalog refuses: ``path`` names where."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


class _NonFinite:
    """Stands in, while decoding, for a number that is not finite; reported by its path."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def loads(body: bytes | str, *, max_depth: int, batch: bool = False) -> Any:
    """Decode ``body`` (UTF-8, -16 or -32 as :func:`json.loads` detects) or raise.

    Raises :class:`JSONError` (a :class:`ValueError`) for what the module refuses,
    :class:`json.JSONDecodeError` (also a ``ValueError``) for text that is not JSON and
    :class:`UnicodeDecodeError` for bytes that are not text. ``max_depth`` counts nested
    arrays and objects; with ``batch``, a top-level array is a list of documents and each of
    its items may nest ``max_depth`` deep (their paths start ``[i]``).
    """
    if isinstance(body, bytes):
        body = body.decode(json.detect_encoding(body), "surrogatepass")
    text = body
    limit = max_depth + 1 if batch and _ARRAY.match(text) else max_depth
    if _max_depth(text, limit) > limit:
        raise JSONError(_too_deep_at(text, limit), f"nested deeper than {max_depth} levels")
    non_finite: list[str] = []

    def constant(name: str) -> _NonFinite:
        non_finite.append(name)
        return _NonFinite(name)

    def number(literal: str) -> float | _NonFinite:
        value = float(literal)
        return value if math.isfinite(value) else constant(literal)

    value = json.loads(text, parse_constant=constant, parse_float=number)
    if non_finite or _suspect(text):
        _check_values(value)
    return value


def _max_depth(text: str, limit: int) -> int:
    """The deepest nesting, or a bound of it when that is within ``limit``."""
    bound = text.count("[") + text.count("{")  # counts brackets in strings too: an upper bound
    if bound <= limit:
        return bound
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _suspect(text: str) -> bool:
    """Whether a NUL or a surrogate may be in ``text``, as a character or an escape."""
    if "\x00" in text or _ESCAPE.search(text):
        return True
    try:
        text.encode("utf-8")  # C speed; fails on a surrogate character
    except UnicodeEncodeError:
        return True
    return False


def _too_deep_at(text: str, limit: int) -> str:
    """The path of the first container that nests deeper than ``limit``."""
    # Each open container: [key of the child being read, or array index, is it an object].
    stack: list[list[Any]] = []
    expect_key = False
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token in "[{":
            if len(stack) >= limit:
                break
            stack.append([0 if token == "[" else None, token == "{"])
            expect_key = token == "{"
        elif token in "]}":
            if stack:
                stack.pop()
            expect_key = False
        elif token == ",":
            if stack and stack[-1][1]:
                expect_key = True
            elif stack:
                stack[-1][0] += 1
        elif expect_key and stack:
            stack[-1][0] = _decode_key(token)
            expect_key = False
    return _path(tuple(frame[0] for frame in stack))


def _decode_key(token: str) -> str:
    try:
        key = json.loads(token)
    except ValueError:
        return token[1:-1]
    return key if isinstance(key, str) else token[1:-1]


def _check_values(value: Any) -> None:
    """Raise for the first non-finite number, NUL or lone surrogate, in document order."""
    for path, item, is_key in _walk(value):
        if isinstance(item, _NonFinite):
            raise JSONError(_path(path), f"{item.text} is not allowed (JSON numbers are finite)")
        if isinstance(item, str) and (bad := _BAD_CHAR.search(item)) is not None:
            where = "in a key " if is_key else ""
            if bad.group() == "\x00":
                problem = f"NUL character (\\u0000) {where}is not allowed"
            else:
                code = f"\\u{ord(bad.group()):04x}"
                problem = f"lone surrogate {code} {where}is not allowed (not valid Unicode)"
            raise JSONError(_path(path), problem)


def _walk(value: Any) -> Iterator[tuple[tuple[str | int, ...], Any, bool]]:
    """(path, value, is it a key) for every key and value, depth first, without recursion."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for k in item:
                yield (*path, k), k, True
            stack.extend(((*path, k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))
        else:
            yield path, item, False


def _path(segments: tuple[str | int, ...]) -> str:
    """``run.facets.x[0]``; a key that is not plain text is shown JSON-escaped and quoted."""
    out = ""
    for s in segments:
        if isinstance(s, int):
            out += f"[{s}]"
            continue
        shown = s if _PLAIN_KEY.fullmatch(s) else _quoted(s)
        out = f"{out}.{shown}" if out else shown
    return out if len(out) <= 400 else f"{out[:190]}…{out[-190:]}"


def _quoted(key: str) -> str:
    text = json.dumps(key[:64])  # ASCII: escapes NUL and lone surrogates
    return text if len(key) <= 64 else f'{text[:-1]}…"'
