"""Recovery tokens: their copy-paste-safe format, generation, tolerant parsing and hashing for storage.

A token reads ``JDR1-<lookup>-<secret>``: ``lookup`` (10 Crockford base32 characters, 50 bits) finds the stored
row without revealing anything; ``secret`` (26 characters, 130 bits from ``secrets``) is the credential and is
stored only as a hash. Crockford base32 has no I, L, O or U, so what a person reads back is what they typed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "JDR1"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
LOOKUP_CHARS = 10  # 50 bits: enough to never collide in practice; not a secret
SECRET_CHARS = 26  # 130 bits of entropy (>= 128 required)
# Crockford's decoding rule: read the look-alikes as the digit a person meant.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_]+")
_VALID = re.compile(f"[{ALPHABET}]+")


class MalformedToken(ValueError):
    """The text is not shaped like a recovery token (a format error only: says nothing about real tokens)."""


@dataclass(frozen=True)
class ParsedToken:
    lookup: str
    secret: str = ""

    def __repr__(self) -> str:  # never the secret, even in a traceback
        return f"ParsedToken(lookup={self.lookup!r}, secret=<hidden>)"


def _random_chars(count: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(count))


def new_token() -> tuple[str, ParsedToken]:
    """A fresh token: the text to show once, and its parts for storing."""
    parsed = ParsedToken(lookup=_random_chars(LOOKUP_CHARS), secret=_random_chars(SECRET_CHARS))
    return format_token(parsed), parsed


def format_token(token: ParsedToken) -> str:
    return f"{PREFIX}-{token.lookup}-{token.secret}"


def parse_token(text: str) -> ParsedToken:
    """Read a pasted token: any case, surrounding or embedded whitespace and line breaks, look-alike letters.

    :raises MalformedToken: when the text cannot be a token.
    """
    compact = _SEPARATORS.sub("", (text or "").upper()).translate(_LOOKALIKES)
    if not compact.startswith(PREFIX):
        raise MalformedToken("A recovery token starts with JDR1-.")
    body = compact.removeprefix(PREFIX)
    if len(body) != LOOKUP_CHARS + SECRET_CHARS or not _VALID.fullmatch(body):
        raise MalformedToken("That isn't a complete recovery token: copy all of it, from JDR1- to the end.")
    return ParsedToken(lookup=body[:LOOKUP_CHARS], secret=body[LOOKUP_CHARS:])


def hash_secret(token: ParsedToken) -> str:
    """The stored form of a token.

    A plain SHA-256 is enough here (unlike passwords, which need a slow KDF): the secret carries 130 random bits,
    so a leaked hash cannot be reversed by guessing. The lookup id is hashed in too, binding secret to row.
    """
    return hashlib.sha256(f"{PREFIX}:{token.lookup}:{token.secret}".encode()).hexdigest()


def matches(token: ParsedToken, stored_hash: str | None) -> bool:
    """Compare in constant time, so response timing says nothing about how much of a guess was right."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(token).encode(), stored_hash.encode())
