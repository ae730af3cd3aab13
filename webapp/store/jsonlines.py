"""JSON text from files and requests, checked before it is parsed: line size, nesting, long numbers, lone surrogates.

Every reader of JSON from outside (label files, JSONL batches, pre-split seed files, exchange
formats, the API) calls `check_line` or `check_json` first, so input that would crash the parser
or the database is refused with where it is, in the same words everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path


class JsonTextError(ValueError):
    """JSON text that is refused before parsing; the message says what and where."""


MAX_LINE_BYTES = 1_000_000
# Formats here nest at most 7 levels (Label Studio); Python's JSON parser runs out of stack near
# 1,000, which would be a crash rather than a refusal.
MAX_JSON_DEPTH = 100
# Positions and times take 20 digits at most; Python refuses to read an integer of 4,300 digits,
# with advice about sys.set_int_max_str_digits that means nothing to someone importing a file.
MAX_NUMBER_DIGITS = 100
# A JSON string, its escapes included, so that brackets and digits inside strings are not counted.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_LONG_NUMBER = re.compile(r"[0-9]{%d,}" % (MAX_NUMBER_DIGITS + 1))
# With every digit made a zero, one substring test finds a run of digits; a regex scan for one
# takes longer than parsing the line, and every line of every import is checked.
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * (MAX_NUMBER_DIGITS + 1)
# A \u escape of half a UTF-16 surrogate pair; Python reads one without its other half as a
# character that no file or database can store (U+D800 to U+DFFF are not characters).
_SURROGATE_ESCAPE = re.compile(r"\\u([dD][89a-fA-F][0-9a-fA-F]{2})")
_PAIR_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
# A UTF-8 character takes at most four bytes, so a line this short cannot be over the limit.
_SHORT_LINE = MAX_LINE_BYTES // 4


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 JSON Lines file, split at "\n" only; raises UnicodeDecodeError.

    Not read_text(), whose newline translation would break a line at a bare "\r" (JSON
    whitespace) and shift every line number after it; not splitlines(), because JSON leaves
    U+2028 and its kin unescaped inside strings.
    """
    return path.read_bytes().decode("utf-8").split("\n")


def check_line(line: str) -> None:
    """Refuse a line of a JSON Lines file longer than MAX_LINE_BYTES, or that `check_json` refuses,
    before it is parsed."""
    if len(line) > _SHORT_LINE:
        size = len(line.encode("utf-8", "surrogatepass"))
        if size > MAX_LINE_BYTES:
            raise JsonTextError(f"The line is {size:,} bytes; a line can be at most {MAX_LINE_BYTES:,} bytes: "
                                "shorten that passage's text, or check that this is the right file.")
    check_json(line)


def check_json(text: str) -> None:
    """Refuse JSON text, before it is parsed, that would break the program instead of being refused.

    That is nesting deeper than MAX_JSON_DEPTH, a number of more than MAX_NUMBER_DIGITS digits,
    and a \\u escape of a lone surrogate. Other mistakes are left to the parser, whose messages
    each caller words its own way.
    """
    # Strings are emptied for the count, and blanked to keep positions only to say where.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _too_deep(_STRING.sub('""', text)) is not None:
        at = _too_deep(_blank_strings(text))
        raise JsonTextError(f"The JSON nests more than {MAX_JSON_DEPTH} levels deep (at {_place(text, at)}); "
                            "nothing Counterpoint reads is nested that deeply.")
    if _LONG_RUN in text.encode("utf-8", "surrogatepass").translate(_ZEROS):
        if found := _LONG_NUMBER.search(_blank_strings(text)):
            where = _place(text, found.start())
            raise JsonTextError(f"A number has {len(found.group()):,} digits (at {where}); a number can have at most "
                                f"{MAX_NUMBER_DIGITS}.")
    at = _lone_surrogate_escape(text)
    if at is not None:
        raise JsonTextError(surrogate_message(f"The JSON (at {_place(text, at)})", text[at + 2:at + 6]))


def _blank_strings(text: str) -> str:
    """The text with the inside of each JSON string blanked, so positions stay where they were."""
    return _STRING.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', text)


def _too_deep(bare: str) -> int | None:
    """Where JSON text whose strings are emptied or blanked first nests deeper than MAX_JSON_DEPTH, or None."""
    depth = 0
    for bracket in _BRACKET.finditer(bare):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return bracket.start()
    return None


def _lone_surrogate_escape(text: str) -> int | None:
    """Where a \\u escape of half a surrogate pair lacks its other half right beside it, or None."""
    # ASCII-only JSON writes every emoji as a pair of escapes, so most surrogate escapes are pairs:
    # with those taken out and no escaped backslash about (which could make "\\ud83d" text), none
    # should be left, and the walk below is only for a file that has one.
    if "\\\\" not in text and not _SURROGATE_ESCAPE.search(_PAIR_ESCAPE.sub("", text)):
        return None
    high = None
    for escape in _SURROGATE_ESCAPE.finditer(text):
        if _escaped(text, escape.start()):
            continue  # an escaped backslash followed by "ud800": text, not an escape
        is_high = escape.group(1)[1] in "89abAB"
        if high is not None:
            if not is_high and escape.start() == high.end():
                high = None
                continue
            return high.start()
        if not is_high:
            return escape.start()
        high = escape
    return None if high is None else high.start()


def _escaped(text: str, index: int) -> bool:
    """True when the backslash at `index` is itself escaped: an odd run of backslashes comes before it."""
    run = 0
    while index - run > 0 and text[index - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _place(text: str, index: int) -> str:
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line + 1}, column {column}" if line or "\n" in text.rstrip("\n") else f"column {column}"



def surrogate_message(what: str, code: str) -> str:
    """The refusal of a lone surrogate (U+`code`) found in `what`."""
    return (f"{what} holds a lone surrogate (U+{code.upper()}), half of a UTF-16 pair and no character; remove it, "
            "or give the whole pair.")
