"""A JQL tokenizer and clause walker for the id-free export: ids in operands become what they name on a site.

The tokenizer keeps every character of the input (whitespace and quoting included), so joining the tokens gives the
text back; only the operands a resolver replaces change. It is written from Jira's JQL grammar (quoted strings with
backslash escapes, functions with arguments, lists, ``cf[123]``, ``!~``, ``IN``/``NOT IN``, ``IS [NOT] EMPTY``,
``WAS [NOT] [IN]``, ``CHANGED`` with ``FROM/TO/BY/AFTER/BEFORE/ON/DURING`` predicates, ``ORDER BY``), never regexes
over the whole string.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

OPERATOR_CHARS = "=!~<>"
OPERATORS = ("!=", "!~", "<=", ">=", "=", "~", "<", ">")
KEYWORD_OPERATORS = frozenset({"in", "not", "is", "was", "changed"})
CONNECTIVES = frozenset({"and", "or"})
PREDICATES = frozenset({"after", "before", "on", "during", "by", "from", "to"})
SPECIAL = "()[],"  # single-character tokens (brackets only outside a cf[...] word)


class JqlSyntaxError(ValueError):
    """JQL the tokenizer can't read: an unterminated string, or a stray character."""


@dataclass
class Token:
    kind: str  # "ws", "string", "word", "op", "lparen", "rparen", "comma"
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def value(self) -> str:
        """The token's value: a quoted string unquoted and unescaped, anything else as written."""
        if self.kind != "string":
            return self.text
        out, body, i = [], self.text[1:-1], 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                i += 2
            else:
                out.append(body[i])
                i += 1
        return "".join(out)


def tokenize(text: str) -> list[Token]:
    """Split JQL into tokens whose texts join back to ``text`` exactly.

    :raises JqlSyntaxError: an unterminated quoted string.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            tokens.append(Token("ws", text[i:j]))
        elif ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise JqlSyntaxError(f"unterminated string starting at character {i}: expected a closing {ch}")
            j += 1
            tokens.append(Token("string", text[i:j]))
        elif ch in OPERATOR_CHARS:
            two = text[i:i + 2]
            op = two if two in OPERATORS else ch
            j = i + len(op)
            tokens.append(Token("op", op))
        elif ch in SPECIAL:
            j = i + 1
            tokens.append(Token({"(": "lparen", ")": "rparen", ",": "comma"}.get(ch, "word"), ch))
        else:
            j = _word_end(text, i)
            tokens.append(Token("word", text[i:j]))
        i = j
    return tokens


def _word_end(text: str, i: int) -> int:
    """End of an unquoted word; ``cf[123]`` is one word, and ``\\`` escapes the next character."""
    n, j = len(text), i
    while j < n:
        ch = text[j]
        if ch == "\\" and j + 1 < n:
            j += 2
            continue
        if ch == "[" and text[i:j].lower() == "cf":
            close = text.find("]", j)
            j = n if close < 0 else close + 1
            continue
        if ch.isspace() or ch in OPERATOR_CHARS or ch in "()," or ch in "\"'":
            break
        j += 1
    return j


def serialise(tokens: list[Token]) -> str:
    return "".join(t.text for t in tokens)


def quote(value: str) -> str:
    """``value`` as a JQL double-quoted string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# resolve_field(field token text) -> replacement text or None (keep);
# resolve_value(field token text, operand token, function name or None, predicate or None) -> text or None (keep)
FieldResolver = Callable[[str], "str | None"]
ValueResolver = Callable[[str, Token, "str | None", "str | None"], "str | None"]


def rewrite(text: str, resolve_field: FieldResolver, resolve_value: ValueResolver) -> str:
    """``text`` with field names and operands replaced where the resolvers say; everything else verbatim."""
    tokens = tokenize(text)
    solid = [i for i, t in enumerate(tokens) if t.kind != "ws"]
    field: str | None = None  # the current clause's field (as written)
    state = "start"  # start | operator | operand | order
    predicate: str | None = None
    function: str | None = None
    depth_function = 0
    depth = 0
    for pos, idx in enumerate(solid):
        tok = tokens[idx]
        nxt = tokens[solid[pos + 1]] if pos + 1 < len(solid) else None
        low = tok.lower
        if state == "order":
            if tok.kind in ("word", "string") and low not in ("asc", "desc", "by"):
                _replace(tok, resolve_field(tok.value if tok.kind == "string" else tok.text))
            continue
        if tok.kind == "word" and low == "order" and nxt is not None and nxt.lower == "by" and depth == 0:
            state = "order"
            continue
        if tok.kind == "lparen":
            depth += 1
            continue
        if tok.kind == "rparen":
            depth -= 1
            if function is not None and depth < depth_function:
                function = None
            continue
        if tok.kind == "comma":
            continue
        if tok.kind == "op":
            state, predicate = "operand", None
            continue
        if tok.kind == "word" and low in CONNECTIVES and function is None:
            state, field, predicate = "start", None, None
            continue
        if state in ("start",) and tok.kind == "word" and low == "not":
            continue  # NOT before a clause
        if state == "start" and tok.kind in ("word", "string"):
            field = tok.value if tok.kind == "string" else tok.text
            _replace(tok, resolve_field(field))
            state = "operator"
            continue
        if state == "operator":
            if tok.kind == "word" and low in KEYWORD_OPERATORS | {"empty", "null"}:
                state = "operand" if low not in ("is",) else "operator"
                continue
            state = "operand"
        if state == "operand" or state == "operator":
            if tok.kind == "word" and low in PREDICATES:
                predicate = low
                continue
            if tok.kind == "word" and low in KEYWORD_OPERATORS | {"empty", "null"}:
                continue
            if tok.kind == "word" and nxt is not None and nxt.kind == "lparen":
                function, depth_function = tok.text, depth + 1
                continue
            if tok.kind in ("word", "string") and field is not None:
                _replace(tok, resolve_value(field, tok, function, predicate))
    return serialise(tokens)


def _replace(tok: Token, text: str | None) -> None:
    if text is not None:
        tok.text = text
