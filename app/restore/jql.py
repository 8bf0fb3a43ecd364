"""JQL read with a real grammar: tokens -> clauses; id operands rewritten into destination terms, the rest verbatim.

Why a grammar and not regexes: an id only means something next to its field (``status = 10004`` names a status,
``summary ~ "10004"`` doesn't), quoted text may contain anything that looks like a clause, and a clause naming
something that didn't come across must be left out *as a clause* (with its connective), never half-rewritten.

What it reads (Jira's JQL): clauses ``field operator operand`` with ``= != ~ !~ < <= > >=``, ``IN``, ``NOT IN``,
``IS [NOT] EMPTY|NULL``, ``WAS [NOT] [IN]``, ``CHANGED`` and the history predicates ``AFTER BEFORE ON DURING BY
FROM TO``; operands that are words, quoted strings (``"`` or ``'``, backslash escapes), lists and functions with
arguments; ``AND OR NOT`` (and ``&& & || | !``), parentheses; fields as names, quoted names, ``cf[123]`` and
``customfield_123``; ``ORDER BY field [ASC|DESC], ...``.

What it rewrites: the field of a custom-field clause (``cf[N]`` keeps its style) and every operand that is an *id*
of an object the restore maps (project, issue type, status, priority, resolution, version, component, option,
sprint, filter, category, user, group, security level). Names, keys, functions, quoting, whitespace and clause
order stay exactly as written; a clause naming something with no counterpart is left out and reported in words.
Pure: the mapping comes in through a ``Mapper``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

# ---------------------------------------------------------------------------------------------- tokens

OPERATORS = ("!=", "!~", "<=", ">=", "&&", "||", "=", "~", "<", ">", "!", "&", "|")
SYMBOLS = "=!~<>&|"
BREAKS = SYMBOLS + "()," + "\"'"


class JqlSyntaxError(ValueError):
    """JQL this grammar can't read: what was expected, what was found, and where."""


@dataclass
class Token:
    kind: str  # ws | string | word | op | lparen | rparen | comma
    text: str
    start: int  # character offset in the input

    @property
    def value(self) -> str:
        """A quoted string unquoted and unescaped; anything else as written (escapes in words undone)."""
        body = self.text[1:-1] if self.kind == "string" else self.text
        if "\\" not in body:
            return body
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), body)

    @property
    def low(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


def tokenize(text: str) -> list[Token]:
    """Tokens whose texts join back to ``text`` exactly.

    :raises JqlSyntaxError: an unterminated quoted string.
    """
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            kind = "ws"
        elif ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise JqlSyntaxError(f"a closing {ch} for the string starting at character {i + 1}, found the end")
            j += 1
            kind = "string"
        elif ch in SYMBOLS:
            op = next(o for o in OPERATORS if text.startswith(o, i))
            j, kind = i + len(op), "op"
        elif ch in "(),":
            j, kind = i + 1, {"(": "lparen", ")": "rparen", ",": "comma"}[ch]
        else:
            j, kind = _word_end(text, i), "word"
        out.append(Token(kind, text[i:j], i))
        i = j
    return out


def _word_end(text: str, i: int) -> int:
    """End of an unquoted word: ``cf[123]`` is one word and a backslash escapes the next character."""
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
        if ch.isspace() or ch in BREAKS:
            break
        j += 1
    return j


# ---------------------------------------------------------------------------------------------- syntax tree

PREDICATES = frozenset({"after", "before", "on", "during", "by", "from", "to"})
EMPTY_WORDS = frozenset({"empty", "null"})


@dataclass
class Operand:
    """A value (one token), a function call (name token + argument operands) or a list of operands."""

    kind: str  # value | function | list
    first: int  # token indices, inclusive
    last: int
    token: int | None = None  # value: its token; function: its name token
    items: list[Operand] = field(default_factory=list)  # list items or function arguments

    def values(self) -> Iterator[int]:
        """Token indices of the plain values inside (list items; not function arguments)."""
        if self.kind == "value" and self.token is not None:
            yield self.token
        elif self.kind == "list":
            for item in self.items:
                yield from item.values()


@dataclass
class Clause:
    field: int  # token index of the field
    operator: str  # normalised: "=", "in", "not in", "is not", "was not in", "changed"...
    operand: Operand | None
    predicates: list[tuple[str, Operand]]
    first: int
    last: int


@dataclass
class Node:
    """``and``/``or`` (children, separated by connectives), ``not`` (one child), ``group`` (parentheses) or a
    ``clause`` leaf."""

    kind: str
    first: int
    last: int
    children: list[Node] = field(default_factory=list)
    clause: Clause | None = None


@dataclass
class SortKey:
    field: int
    first: int
    last: int


@dataclass
class Query:
    tokens: list[Token]
    where: Node | None
    order_by: tuple[int, int] | None  # the ``ORDER`` and ``BY`` token indices
    sort: list[SortKey]

    def clauses(self) -> Iterator[Clause]:
        stack = [self.where] if self.where is not None else []
        while stack:
            node = stack.pop()
            if node.clause is not None:
                yield node.clause
            stack.extend(reversed(node.children))

    def text(self, first: int, last: int) -> str:
        return "".join(t.text for t in self.tokens[first:last + 1])


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.solid = [i for i, t in enumerate(self.tokens) if t.kind != "ws"]
        self.pos = 0

    # -- helpers

    def _peek(self, ahead: int = 0) -> Token | None:
        at = self.pos + ahead
        return self.tokens[self.solid[at]] if at < len(self.solid) else None

    def _index(self) -> int:
        return self.solid[self.pos]

    def _take(self) -> int:
        index = self.solid[self.pos]
        self.pos += 1
        return index

    def _expected(self, what: str) -> JqlSyntaxError:
        tok = self._peek()
        found = f"{tok.text!r} at character {tok.start + 1}" if tok is not None else "the end of the query"
        return JqlSyntaxError(f"{what}, found {found}")

    def _is_word(self, *words: str, ahead: int = 0) -> bool:
        tok = self._peek(ahead)
        return tok is not None and tok.kind == "word" and tok.low in words

    def _is_op(self, *ops: str) -> bool:
        tok = self._peek()
        return tok is not None and tok.kind == "op" and tok.text in ops

    # -- grammar

    def parse(self) -> Query:
        where = None
        if self._peek() is not None and not self._at_order_by():
            where = self._or()
        order_by, sort = None, []
        if self._at_order_by():
            order_by = (self._take(), self._take())
            sort = self._sort_keys()
        if self._peek() is not None:
            raise self._expected("AND, OR or ORDER BY")
        return Query(self.tokens, where, order_by, sort)

    def _at_order_by(self) -> bool:
        return self._is_word("order") and self._is_word("by", ahead=1)

    def _connected(self, kind: str, words: tuple[str, ...], ops: tuple[str, ...],
                   below: Callable[[], Node]) -> Node:
        children = [below()]
        while self._is_word(*words) or self._is_op(*ops):
            self._take()
            children.append(below())
        if len(children) == 1:
            return children[0]
        return Node(kind, children[0].first, children[-1].last, children)

    def _or(self) -> Node:
        return self._connected("or", ("or",), ("||", "|"), self._and)

    def _and(self) -> Node:
        return self._connected("and", ("and",), ("&&", "&"), self._not)

    def _not(self) -> Node:
        if self._is_word("not") or self._is_op("!"):
            first = self._take()
            child = self._not()
            return Node("not", first, child.last, [child])
        tok = self._peek()
        if tok is not None and tok.kind == "lparen":
            first = self._take()
            inner = self._or()
            if self._peek() is None or self._peek().kind != "rparen":  # type: ignore[union-attr]
                raise self._expected("a closing parenthesis")
            return Node("group", first, self._take(), [inner])
        clause = self._clause()
        return Node("clause", clause.first, clause.last, clause=clause)

    def _clause(self) -> Clause:
        tok = self._peek()
        if tok is None or tok.kind not in ("word", "string") or (tok.kind == "word" and tok.low in (
                "and", "or", "order")):
            raise self._expected("a field name")
        field_at = self._take()
        operator = self._operator()
        operand = None
        if operator != "changed":
            operand = self._operand()
        predicates = []
        while self._is_word(*PREDICATES):
            word = self.tokens[self._take()].text.lower()
            predicates.append((word, self._operand()))
        last = self.solid[self.pos - 1]
        return Clause(field_at, operator, operand, predicates, field_at, last)

    def _operator(self) -> str:
        tok = self._peek()
        if tok is not None and tok.kind == "op" and tok.text in ("=", "!=", "~", "!~", "<", "<=", ">", ">="):
            self._take()
            return tok.text
        words: list[str] = []
        if self._is_word("in", "changed"):
            words.append(self.tokens[self._take()].low)
        elif self._is_word("not"):
            words.append(self.tokens[self._take()].low)
            if not self._is_word("in"):
                raise self._expected("IN after NOT")
            words.append(self.tokens[self._take()].low)
        elif self._is_word("is", "was"):
            words.append(self.tokens[self._take()].low)
            if self._is_word("not"):
                words.append(self.tokens[self._take()].low)
            if words[0] == "was" and self._is_word("in"):
                words.append(self.tokens[self._take()].low)
        if not words:
            raise self._expected("an operator (=, !=, ~, !~, <, <=, >, >=, IN, NOT IN, IS, WAS, CHANGED)")
        return " ".join(words)

    def _operand(self) -> Operand:
        tok = self._peek()
        if tok is None:
            raise self._expected("a value, list or function")
        if tok.kind == "lparen":
            first = self._take()
            items = [self._operand()]
            while self._peek() is not None and self._peek().kind == "comma":  # type: ignore[union-attr]
                self._take()
                items.append(self._operand())
            if self._peek() is None or self._peek().kind != "rparen":  # type: ignore[union-attr]
                raise self._expected("a comma or a closing parenthesis")
            return Operand("list", first, self._take(), items=items)
        if tok.kind == "word" and self._peek(1) is not None and self._peek(1).kind == "lparen":  # type: ignore
            name = self._take()
            self._take()
            args: list[Operand] = []
            if self._peek() is not None and self._peek().kind != "rparen":  # type: ignore[union-attr]
                args.append(self._operand())
                while self._peek() is not None and self._peek().kind == "comma":  # type: ignore[union-attr]
                    self._take()
                    args.append(self._operand())
            if self._peek() is None or self._peek().kind != "rparen":  # type: ignore[union-attr]
                raise self._expected(f"a closing parenthesis after the arguments of {tok.text}()")
            return Operand("function", name, self._take(), token=name, items=args)
        if tok.kind in ("word", "string"):
            at = self._take()
            return Operand("value", at, at, token=at)
        raise self._expected("a value, list or function")

    def _sort_keys(self) -> list[SortKey]:
        keys = []
        while True:
            tok = self._peek()
            if tok is None or tok.kind not in ("word", "string"):
                raise self._expected("a field to order by")
            at = self._take()
            last = at
            if self._is_word("asc", "desc"):
                last = self._take()
            keys.append(SortKey(at, at, last))
            if self._peek() is None or self._peek().kind != "comma":  # type: ignore[union-attr]
                return keys
            self._take()


def parse(text: str) -> Query:
    """The query's syntax tree.

    :raises JqlSyntaxError: text this grammar can't read (expected vs found, with the character position).
    """
    return _Parser(text).parse()


# ---------------------------------------------------------------------------------------------- what ids name

# JQL field (lower case) -> the restore type key of the objects its id operands name
FIELD_KINDS = {
    "project": "projects", "issuetype": "issueTypes", "type": "issueTypes", "status": "statuses",
    "priority": "priorities", "resolution": "resolutions", "fixversion": "versions", "affectedversion": "versions",
    "component": "components", "sprint": "sprints", "filter": "filters", "savedfilter": "filters",
    "searchrequest": "filters", "request": "filters", "category": "projectCategories", "level": "securityLevels",
    "assignee": "users", "reporter": "users", "creator": "users", "watcher": "users", "voter": "users",
    "worklogauthor": "users", "approver": "users",
}
# JQL function (lower case) -> the kind its id arguments name
FUNCTION_ARGS = {
    "membersof": "groups", "cascadeoption": "options", "releasedversions": "projects",
    "unreleasedversions": "projects", "earliestunreleasedversion": "projects", "latestreleasedversion": "projects",
    "earliestunreleasedversionbyreleasedate": "projects", "latestreleasedversionbyreleasedate": "projects",
    "componentsleadbyuser": "users", "projectsleadbyuser": "users", "updatedby": "users", "approver": "users",
}
LABELS = {
    "projects": "project", "issueTypes": "issue type", "statuses": "status", "priorities": "priority",
    "resolutions": "resolution", "versions": "version", "components": "component", "options": "option",
    "sprints": "sprint", "filters": "filter", "projectCategories": "project category", "users": "user",
    "groups": "group", "securityLevels": "security level", "customFields": "custom field",
}
_CF = re.compile(r"(?i)^(cf\[\s*(\d+)\s*\]|customfield_(\d+))$")
_ACCOUNT = re.compile(r"^(?:[0-9a-f]{24}|[0-9A-Za-z-]+:[0-9A-Za-z-]+)$")
_GROUP_ID = re.compile(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class IdRef:
    """An id inside JQL: the kind of object (a restore type key, or a part of one: versions, options...) and id."""

    kind: str
    source_id: str


def custom_field_id(name: str) -> str | None:
    """``customfield_N`` for a ``cf[N]`` or ``customfield_N`` field name; None for any other field."""
    found = _CF.match(name.strip())
    if found is None:
        return None
    return f"customfield_{found.group(2) or found.group(3)}"


def _id_of(kind: str, tok: Token) -> str | None:
    """The id an operand token holds for objects of ``kind``, or None when it is a name, key or keyword."""
    value = tok.value
    if tok.kind == "word" and tok.low in EMPTY_WORDS:
        return None
    if kind == "users":
        return value if _ACCOUNT.match(value) else None
    if kind == "groups":
        return value if _GROUP_ID.match(value) else None
    # Quoted values are names to Jira (``status = "10004"`` looks for a status *named* 10004 first).
    return value if tok.kind == "word" and value.isdigit() else None


# ---------------------------------------------------------------------------------------------- the walk

FieldKind = Callable[[str], "str | None"]  # custom field id -> the kind its values name (None: not ids)


def _operand_refs(q: Query, operand: Operand, kind: str | None) -> Iterator[tuple[int, IdRef]]:
    """(token index, reference) for every id in an operand; function arguments by the function's own kind."""
    if operand.kind == "function":
        name = operand.token if operand.token is not None else operand.first
        fn_kind = FUNCTION_ARGS.get(q.tokens[name].text.lower())
        for arg in operand.items:
            if fn_kind is not None:
                yield from _operand_refs(q, arg, fn_kind)
        return
    if kind is None:
        return
    for at in operand.values():
        found = _id_of(kind, q.tokens[at])
        if found is not None:
            yield at, IdRef(kind, found)


def _clause_refs(q: Query, clause: Clause, field_kind: FieldKind | None) -> Iterator[tuple[int, IdRef]]:
    name = q.tokens[clause.field].value
    fid = custom_field_id(name)
    if fid is not None:
        yield clause.field, IdRef("customFields", fid)
        kind = field_kind(fid) if field_kind is not None else None
    else:
        kind = FIELD_KINDS.get(name.lower())
    if clause.operand is not None and clause.operator not in ("~", "!~"):
        yield from _operand_refs(q, clause.operand, kind)
    for word, operand in clause.predicates:
        if word == "by":
            yield from _operand_refs(q, operand, "users")
        elif word in ("from", "to"):
            yield from _operand_refs(q, operand, kind)


def _sort_refs(q: Query, key: SortKey) -> Iterator[tuple[int, IdRef]]:
    fid = custom_field_id(q.tokens[key.field].value)
    if fid is not None:
        yield key.field, IdRef("customFields", fid)


def references(text: str, field_kind: FieldKind | None = None) -> list[IdRef]:
    """Every id the JQL names, in order, without repeats; none when it can't be read.

    ``field_kind`` tells what a custom field's values name (option ids of a select list...); without it only the
    custom fields themselves are listed for custom-field clauses.
    """
    try:
        q = parse(text or "")
    except JqlSyntaxError:
        return []
    found: list[IdRef] = []
    for clause in q.clauses():
        found += [ref for _at, ref in _clause_refs(q, clause, field_kind)]
    for key in q.sort:
        found += [ref for _at, ref in _sort_refs(q, key)]
    return list(dict.fromkeys(found))


# ---------------------------------------------------------------------------------------------- rewriting


class Mapper(Protocol):
    """What the rewrite asks: the destination id of each reference, and what custom fields' values name."""

    def field_kind(self, field_id: str) -> str | None: ...

    def map(self, kind: str, source_id: str) -> str | None:
        """The destination id, or None: it has no counterpart (the clause is left out and reported)."""
        ...


@dataclass(frozen=True)
class Dropped:
    """A clause (or sort key) left out of the rewritten JQL, and why, in words."""

    text: str
    missing: tuple[IdRef, ...]

    def words(self) -> str:
        what = ", ".join(f"{LABELS.get(r.kind, r.kind)} {r.source_id}" for r in self.missing)
        return f"`{self.text.strip()}` ({what} has no counterpart here)"


@dataclass
class Rewritten:
    text: str
    dropped: list[Dropped] = field(default_factory=list)
    unreadable: str | None = None  # why the JQL couldn't be read (then ``text`` is the input, unchanged)


def _new_text(tok: Token, new_id: str) -> str:
    """A custom field token pointing at ``new_id`` in the style it was written (``cf[N]`` or ``customfield_N``)."""
    number = new_id.removeprefix("customfield_")
    body = tok.value
    found = _CF.match(body.strip())
    assert found is not None
    new_body = f"cf[{number}]" if found.group(2) else f"customfield_{number}"
    if body.strip()[:2] == "CF":
        new_body = new_body.replace("cf[", "CF[")
    if tok.kind == "string":
        return tok.text[0] + new_body + tok.text[-1]
    return new_body


def _quoted_like(tok: Token, value: str) -> str:
    if tok.kind != "string":
        return value
    quote = tok.text[0]
    return quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def rewrite(text: str, mapper: Mapper) -> Rewritten:
    """``text`` with every id in destination terms; clauses and sort keys naming something unmapped left out."""
    if not text:
        return Rewritten(text or "")
    try:
        q = parse(text)
    except JqlSyntaxError as exc:
        return Rewritten(text, unreadable=str(exc))
    keep = [True] * len(q.tokens)
    replace: dict[int, str] = {}
    dropped: list[Dropped] = []

    def attempt(refs: list[tuple[int, IdRef]]) -> tuple[IdRef, ...]:
        missing = []
        for at, ref in refs:
            new = mapper.map(ref.kind, ref.source_id)
            if new is None:
                missing.append(ref)
            elif new == ref.source_id:
                continue
            elif ref.kind == "customFields" and at in field_tokens:
                replace[at] = _new_text(q.tokens[at], new)
            else:
                replace[at] = _quoted_like(q.tokens[at], new)
        return tuple(dict.fromkeys(missing))

    field_tokens = {c.field for c in q.clauses()} | {k.field for k in q.sort}

    def walk(node: Node) -> bool:
        """Rewrite the node; False when it is left out as a whole."""
        if node.clause is not None:
            missing = attempt(list(_clause_refs(q, node.clause, mapper.field_kind)))
            if missing:
                dropped.append(Dropped(q.text(node.first, node.last), missing))
                return False
            return True
        kept = [walk(child) for child in node.children]
        if not any(kept):
            return False
        if node.kind in ("and", "or"):
            _drop_members(keep, node.children, kept)
        return True

    if q.where is not None and not walk(q.where):
        _cut(keep, q.where.first, q.where.last)
        if q.order_by is not None:
            _cut(keep, q.where.last + 1, q.order_by[0] - 1)  # the space before ORDER BY
    if q.sort:
        kept_keys = []
        for key in q.sort:
            missing = attempt(list(_sort_refs(q, key)))
            if missing:
                dropped.append(Dropped(q.text(key.first, key.last), missing))
            kept_keys.append(not missing)
        if any(kept_keys):
            _drop_members(keep, q.sort, kept_keys)
        else:
            assert q.order_by is not None
            start = q.order_by[0]
            while start > 0 and q.tokens[start - 1].kind == "ws":
                start -= 1
            _cut(keep, start, q.sort[-1].last)
    out = "".join(replace.get(i, t.text) for i, t in enumerate(q.tokens) if keep[i])
    if q.where is not None and not any(keep[q.where.first:q.where.last + 1]):
        out = out.lstrip()
    return Rewritten(out, dropped)


def _cut(keep: list[bool], first: int, last: int) -> None:
    for i in range(first, last + 1):
        keep[i] = False


def _drop_members(keep: list[bool], members: Sequence[Node | SortKey], kept: list[bool]) -> None:
    """Leave out the members not kept, with their separators: the first kept member stays bare, each further kept
    member keeps the separator (connective or comma, with its spaces) that stood right before it."""
    first_kept = kept.index(True)
    for i, member in enumerate(members):
        if not kept[i]:
            _cut(keep, member.first, member.last)
        if i > 0 and (not kept[i] or i <= first_kept):
            _cut(keep, members[i - 1].last + 1, member.first - 1)
