"""Are recovery tokens unguessable, copy-paste safe, stored only as a hash and compared in constant time?"""

from __future__ import annotations

import math
import re

import pytest

from app.recovery import tokens
from app.recovery.tokens import MalformedToken, ParsedToken, hash_secret, matches, new_token, parse_token


def test_a_new_token_has_at_least_128_bits_of_secret_entropy_in_a_safe_alphabet() -> None:
    text, parsed = new_token()
    assert re.fullmatch(r"JDR1-[0-9A-HJKMNP-TV-Z]{10}-[0-9A-HJKMNP-TV-Z]{26}", text)
    assert len(parsed.secret) * math.log2(len(tokens.ALPHABET)) >= 128
    assert not set("ILOU") & set(text.removeprefix("JDR1"))  # no look-alike letters to misread


def test_tokens_are_distinct() -> None:
    assert len({new_token()[0] for _ in range(200)}) == 200


@pytest.mark.parametrize("mangle", [
    lambda t: t,
    lambda t: t.lower(),
    lambda t: f"  \n{t}\t \r\n",
    lambda t: t[:20] + "\n" + t[20:],  # an e-mail client wrapped it
    lambda t: t.replace("-", " "),
    lambda t: t.replace("0", "O").replace("1", "I"),  # read back by a person
], ids=["as-is", "lower-case", "surrounding-whitespace", "line-break", "spaces-for-dashes", "look-alikes"])
def test_parsing_tolerates_what_copy_paste_and_people_do(mangle) -> None:
    text, parsed = new_token()
    assert parse_token(mangle(text)) == parsed


@pytest.mark.parametrize("text", ["", "   ", "hello", "JDR2-0123456789-ABCDEFGHJKMNPQRSTVWXYZ0123",
                                  "JDR1-0123456789-ABCDEFGHJKMNPQRSTVWXYZ012",  # one short
                                  "JDR1-0123456789-ABCDEFGHJKMNPQRSTVWXYZ01234",  # one long
                                  "JDR1-0123456789-ABCDEFGHJKMNPQRSTVWXYZ012U",  # U isn't Crockford
                                  "JDR1-0123456789-ABCDEFGHJKMNPQRSTVWXYZ012é"])
def test_malformed_text_is_refused_as_a_format_error(text) -> None:
    with pytest.raises(MalformedToken):
        parse_token(text)


def test_the_stored_hash_does_not_contain_the_secret_and_only_the_right_secret_matches() -> None:
    text, parsed = new_token()
    stored = hash_secret(parsed)
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert parsed.secret not in stored and parsed.secret.lower() not in stored
    assert matches(parse_token(text.lower()), stored)
    wrong_secret = ParsedToken(parsed.lookup, ("0" if parsed.secret[0] != "0" else "1") + parsed.secret[1:])
    assert not matches(wrong_secret, stored)
    other_lookup = ParsedToken(("0" if parsed.lookup[0] != "0" else "1") + parsed.lookup[1:], parsed.secret)
    assert not matches(other_lookup, stored)  # the secret is bound to its lookup id
    assert not matches(parsed, None) and not matches(parsed, "")


def test_comparison_is_constant_time(monkeypatch) -> None:
    """Does the comparison go through hmac.compare_digest (not ==, which stops at the first difference)?"""
    seen = []
    real = tokens.hmac.compare_digest
    monkeypatch.setattr(tokens.hmac, "compare_digest", lambda a, b: seen.append(1) or real(a, b))
    _, parsed = new_token()
    assert matches(parsed, hash_secret(parsed))
    assert seen == [1]


def test_a_parsed_token_never_shows_its_secret_in_repr() -> None:
    _, parsed = new_token()
    assert parsed.secret not in repr(parsed)
