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


# --------------------------------------------------------------------------------------------------
# A parser: the same tokens, read into a query tree that issue search evaluates (``issue_search.py``)
# --------------------------------------------------------------------------------------------------

# Jira's syntax-error texts (seen in Jira Cloud answers); positions are 1-based characters on line 1.
EXPECTING_OPERATOR = ("Error in the JQL Query: Expecting operator but got '{}'. The valid operators are '=', '!=', "
                      "'<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character {})")
EXPECTING_VALUE = ("Error in the JQL Query: Expecting either a value, list or function but got '{}'. You must "
                   "surround '{}' in quotation marks to use it as a value. (line 1, character {})")
EXPECTING_FIELD = "Error in the JQL Query: Expecting a field name but got '{}'. (line 1, character {})"
EXPECTING_END = ("Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{}'. (line 1, character {})")
UNBALANCED = "Error in the JQL Query: Expecting ')' but got '{}'. (line 1, character {})"
INCOMPLETE = "Error in the JQL Query: The JQL query is incomplete. (line 1, character {})"  # plausible wording


@dataclass
class Value:
    text: str
    quoted: bool = False


@dataclass
class Function:
    name: str
    args: list[str]


@dataclass
class Clause:
    field: str
    op: str  # "=", "!=", "<", ">", "<=", ">=", "~", "!~", "in", "not in", "is", "is not", "was", "changed"...
    operand: Value | Function | list[Value | Function] | None  # None: EMPTY / NULL
    position: int


@dataclass
class Bool:
    op: str  # "and", "or", "not"
    items: list[Clause | Bool]


@dataclass
class Query:
    where: Clause | Bool | None
    order: list[tuple[str, bool]]  # (field, descending)


def parse(text: str) -> Query:
    """The query tree of ``text``.

    :raises JqlSyntaxError: with Jira's text for the first thing it can't read.
    """
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[Token, int]] = []
        offset = 0
        for tok in tokenize(text):
            if tok.kind != "ws":
                self.tokens.append((tok, offset + 1))
            offset += len(tok.text)
        self.end = offset + 1
        self.i = 0

    # -- cursor
    def peek(self, ahead: int = 0) -> Token | None:
        at = self.i + ahead
        return self.tokens[at][0] if at < len(self.tokens) else None

    def where(self) -> int:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else self.end

    def take(self) -> Token:
        tok = self.tokens[self.i][0]
        self.i += 1
        return tok

    def word(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.lower in words

    def shown(self) -> str:
        tok = self.peek()
        return "EOF" if tok is None else tok.text

    # -- grammar
    def query(self) -> Query:
        where = None
        if self.peek() is not None and not self._at_order():
            where = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self._at_order():
            self.i += 2
            order = self.order_by()
        if self.peek() is not None:
            raise JqlSyntaxError(EXPECTING_END.format(self.shown(), self.where()))
        return Query(where, order)

    def _at_order(self) -> bool:
        nxt = self.peek(1)
        return self.word("order") and nxt is not None and nxt.lower == "by"

    def or_expr(self) -> Clause | Bool:
        items = [self.and_expr()]
        while self.word("or") or (self.peek() is not None and self.peek().text == "||"):  # type: ignore[union-attr]
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Bool("or", items)

    def and_expr(self) -> Clause | Bool:
        items = [self.not_expr()]
        while self.word("and") or (self.peek() is not None and self.peek().text == "&&"):  # type: ignore[union-attr]
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else Bool("and", items)

    def not_expr(self) -> Clause | Bool:
        tok = self.peek()
        if tok is None:
            raise JqlSyntaxError(INCOMPLETE.format(self.where()))
        if (tok.kind == "word" and tok.lower == "not") or (tok.kind == "op" and tok.text == "!"):
            self.take()
            return Bool("not", [self.not_expr()])
        if tok.kind == "lparen":
            self.take()
            inner = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise JqlSyntaxError(UNBALANCED.format(self.shown(), self.where()))
            self.take()
            return inner
        return self.clause()

    def clause(self) -> Clause:
        position = self.where()
        tok = self.take()
        if tok.kind not in ("word", "string") or tok.lower in CONNECTIVES:
            raise JqlSyntaxError(EXPECTING_FIELD.format(tok.text, position))
        field = tok.value
        op = self.operator()
        if op in ("is", "is not"):
            value = self.peek()
            if value is None or value.kind != "word" or value.lower not in ("empty", "null"):
                raise JqlSyntaxError(EXPECTING_VALUE.format(self.shown(), self.shown(), self.where()))
            self.take()
            return Clause(field, op, None, position)
        if op in ("was", "changed"):
            self._skip_history_clause()
            return Clause(field, op, None, position)  # the evaluator refuses these
        return Clause(field, op, self.operand(op in ("in", "not in")), position)

    def _skip_history_clause(self) -> None:
        """Step over a WAS/CHANGED clause's operands and predicates (read, not evaluated)."""
        depth = 0
        while self.peek() is not None:
            tok = self.peek()
            assert tok is not None
            if depth == 0 and (tok.kind == "rparen" or (tok.kind == "word" and tok.lower in CONNECTIVES)
                               or self._at_order()):
                return
            depth += {"lparen": 1, "rparen": -1}.get(tok.kind, 0)
            self.take()

    def operator(self) -> str:
        tok = self.peek()
        if tok is None:
            raise JqlSyntaxError(EXPECTING_OPERATOR.format("EOF", self.where()))
        if tok.kind == "op" and tok.text in OPERATORS:
            self.take()
            return tok.text
        low = tok.lower if tok.kind == "word" else ""
        if low == "in":
            self.take()
            return "in"
        if low == "not" and self.peek(1) is not None and self.peek(1).lower == "in":  # type: ignore[union-attr]
            self.i += 2
            return "not in"
        if low == "is":
            self.take()
            if self.word("not"):
                self.take()
                return "is not"
            return "is"
        if low in ("was", "changed"):
            self.take()
            return low
        raise JqlSyntaxError(EXPECTING_OPERATOR.format(tok.text, self.where()))

    def operand(self, want_list: bool) -> Value | Function | list[Value | Function] | None:
        tok = self.peek()
        if tok is None:
            raise JqlSyntaxError(EXPECTING_VALUE.format("EOF", "EOF", self.where()))
        if tok.kind == "lparen":
            self.take()
            items: list[Value | Function] = []
            while True:
                item = self.operand(False)
                if item is None or isinstance(item, list):
                    raise JqlSyntaxError(EXPECTING_VALUE.format(self.shown(), self.shown(), self.where()))
                items.append(item)
                nxt = self.peek()
                if nxt is not None and nxt.kind == "comma":
                    self.take()
                    continue
                if nxt is None or nxt.kind != "rparen":
                    raise JqlSyntaxError(UNBALANCED.format(self.shown(), self.where()))
                self.take()
                return items
        if tok.kind == "word" and tok.lower in ("empty", "null"):
            self.take()
            return None
        if tok.kind not in ("word", "string") or (tok.kind == "word" and tok.lower in KEYWORDS_RESERVED):
            raise JqlSyntaxError(EXPECTING_VALUE.format(tok.text, tok.text, self.where()))
        self.take()
        nxt = self.peek()
        if tok.kind == "word" and nxt is not None and nxt.kind == "lparen":
            self.take()
            args: list[str] = []
            while self.peek() is not None and self.peek().kind != "rparen":  # type: ignore[union-attr]
                arg = self.take()
                if arg.kind != "comma":
                    args.append(arg.value)
            if self.peek() is None:
                raise JqlSyntaxError(UNBALANCED.format("EOF", self.where()))
            self.take()
            return Function(tok.text, args)
        return Value(tok.value, tok.kind == "string")

    def order_by(self) -> list[tuple[str, bool]]:
        order: list[tuple[str, bool]] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind not in ("word", "string"):
                raise JqlSyntaxError(EXPECTING_FIELD.format(self.shown(), self.where()))
            self.take()
            desc = False
            if self.word("asc", "desc"):
                desc = self.take().lower == "desc"
            order.append((tok.value, desc))
            if self.peek() is not None and self.peek().kind == "comma":  # type: ignore[union-attr]
                self.take()
                continue
            return order


KEYWORDS_RESERVED = frozenset({"and", "or", "not", "order", "by", "in", "is"})
