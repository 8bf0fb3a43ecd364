"""Sealing a byte stream chunk by chunk (AES-256-GCM, framed, numbered) and opening it again, checking as it goes.

Sealed form::

    header  = b"JDRS" | version (1) | chunk_size (4, big-endian) | salt (16)
    frame   = flag+length (4: top bit = last frame, low 31 bits = ciphertext bytes) | ciphertext (chunk + 16-byte tag)

Each blob gets its own key, HKDF-SHA256(tenant key, salt = the blob's random salt, info = format and tenant id);
chunk *i* is sealed with nonce = i (so a key never sees a nonce twice) and associated data = the header plus the
last-frame flag. Hence a flipped byte, a reordered or repeated chunk (nonce mismatch), a dropped last chunk (no frame
flagged last), a frame moved from another blob (other salt, other key) or another tenant (other tenant key, other
info) fails authentication at that chunk, before any of its plaintext is released. The opener also checks the
chunk count, size and SHA-256 the metadata recorded before releasing the final chunk.

Pure: no Flask, no database; the caller supplies the tenant key.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"JDRS"
VERSION = 1
SALT_BYTES = 16
TAG_BYTES = 16
HEADER = struct.Struct(">4sBI16s")
PREFIX = struct.Struct(">I")
LAST_FLAG = 0x8000_0000
FRAME_OVERHEAD = PREFIX.size + TAG_BYTES


class BlobStorageError(Exception):
    """Base of the streamed-blob errors."""


class BlobNotFound(BlobStorageError, LookupError):
    """The tenant has no blob with that digest (or its object is gone from the store)."""


class BlobCorrupt(BlobStorageError):
    """A stored blob that fails its checks: tampered with, truncated, reordered, or sealed under another key."""


@dataclass(frozen=True)
class SealedFacts:
    """What the metadata records of a sealed blob, and what opening it must find again."""

    digest: str
    size: int
    chunk_size: int
    chunk_count: int
    salt: bytes


def header_bytes(chunk_size: int, salt: bytes) -> bytes:
    return HEADER.pack(MAGIC, VERSION, chunk_size, salt)


def blob_cipher(tenant_key: bytes, tenant_id: int, salt: bytes) -> AESGCM:
    """This blob's AES-256-GCM cipher: a key of its own, derived from the tenant's key and its salt."""
    info = f"jira-dr stream blob v{VERSION} tenant {int(tenant_id)}".encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(tenant_key)
    return AESGCM(key)


def _nonce(index: int) -> bytes:
    return b"\x00\x00\x00\x00" + index.to_bytes(8, "big")


def _aad(header: bytes, last: bool) -> bytes:
    return header + (b"\x01" if last else b"\x00")


def rechunk(source: Iterable[bytes] | BinaryIO, chunk_size: int) -> Iterator[tuple[bytes, bool]]:
    """The source's bytes as (chunk, is_last) of exactly ``chunk_size`` bytes, the last shorter (maybe empty).

    One chunk is held back until the next byte shows whether more follows, so a source of exactly one chunk is one
    last chunk, not a full chunk and an empty one.
    """
    pieces: Iterable[bytes] = iter(lambda: source.read(chunk_size), b"") if hasattr(source, "read") else source
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) > chunk_size:
            yield bytes(buffer[:chunk_size]), False
            del buffer[:chunk_size]
    yield bytes(buffer), True


class StreamSealer:
    """Seals a plaintext stream into frames while hashing it; ``facts`` is complete once the frames are consumed."""

    def __init__(self, tenant_key: bytes, tenant_id: int, chunk_size: int) -> None:
        self.chunk_size = chunk_size
        self.salt = os.urandom(SALT_BYTES)
        self.header = header_bytes(chunk_size, self.salt)
        self._cipher = blob_cipher(tenant_key, tenant_id, self.salt)
        self._sha = hashlib.sha256()
        self.size = 0
        self.chunk_count = 0
        self.stored_size = 0

    def frames(self, source: Iterable[bytes] | BinaryIO) -> Iterator[bytes]:
        """The header, then one sealed frame per chunk of ``source``."""
        self.stored_size = len(self.header)
        yield self.header
        for index, (chunk, last) in enumerate(rechunk(source, self.chunk_size)):
            self._sha.update(chunk)
            self.size += len(chunk)
            sealed = self._cipher.encrypt(_nonce(index), chunk, _aad(self.header, last))
            self.chunk_count = index + 1
            frame = PREFIX.pack(len(sealed) | (LAST_FLAG if last else 0)) + sealed
            self.stored_size += len(frame)
            yield frame

    @property
    def facts(self) -> SealedFacts:
        return SealedFacts(self._sha.hexdigest(), self.size, self.chunk_size, self.chunk_count, self.salt)


class _Buffer:
    """Bytes arriving in pieces of any size, taken in exact lengths (never more than one piece plus one frame)."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces = iter(pieces)
        self._data = bytearray()

    def take(self, n: int) -> bytes | None:
        """Exactly ``n`` bytes, or None at a clean end; a partial read at the end is returned short."""
        while len(self._data) < n:
            piece = next(self._pieces, None)
            if piece is None:
                if not self._data:
                    return None
                out = bytes(self._data)
                self._data.clear()
                return out
            self._data += piece
        out = bytes(self._data[:n])
        del self._data[:n]
        return out

    def at_end(self) -> bool:
        while not self._data:
            piece = next(self._pieces, None)
            if piece is None:
                return True
            self._data += piece
        return False


def open_frames(pieces: Iterable[bytes], tenant_key: bytes, tenant_id: int, facts: SealedFacts,
                what: str) -> Iterator[bytes]:
    """The plaintext chunks of a sealed object, each released only once it (and, for the last, the whole) checks out.

    :raises BlobCorrupt: naming ``what`` and the chunk, with expected against found.
    """
    buffer = _Buffer(pieces)
    header = _read_header(buffer, facts, what)
    cipher = blob_cipher(tenant_key, tenant_id, facts.salt)
    sha = hashlib.sha256()
    size = 0
    for index in range(facts.chunk_count):
        last, sealed = _read_frame(buffer, facts, index, what)
        try:
            chunk = cipher.decrypt(_nonce(index), sealed, _aad(header, last))
        except InvalidTag:
            raise BlobCorrupt(f"{what}: chunk {index + 1} of {facts.chunk_count} failed authentication "
                              "(tampered with, reordered, from another blob, or sealed under another key)") from None
        sha.update(chunk)
        size += len(chunk)
        is_final = index == facts.chunk_count - 1
        if last != is_final or (not last and len(chunk) != facts.chunk_size):
            raise BlobCorrupt(f"{what}: chunk {index + 1} of {facts.chunk_count} is "
                              f"{'marked last' if last else 'not marked last'} with {len(chunk)} bytes; expected "
                              f"{'the last chunk' if is_final else f'a full chunk of {facts.chunk_size} bytes'}")
        if is_final:
            _check_whole(buffer, sha.hexdigest(), size, facts, what)
        yield chunk


def _read_header(buffer: _Buffer, facts: SealedFacts, what: str) -> bytes:
    raw = buffer.take(HEADER.size)
    if raw is None or len(raw) < HEADER.size:
        raise BlobCorrupt(f"{what}: the stored object is {0 if raw is None else len(raw)} bytes, shorter than its "
                          f"{HEADER.size}-byte header")
    magic, version, chunk_size, salt = HEADER.unpack(raw)
    if magic != MAGIC or version != VERSION:
        raise BlobCorrupt(f"{what}: not a sealed blob of format {VERSION} (found magic {magic!r}, version {version})")
    if chunk_size != facts.chunk_size or salt != facts.salt:
        raise BlobCorrupt(f"{what}: the stored object's header does not match the blob's metadata (another "
                          f"blob's object, or a tampered header): expected chunk size {facts.chunk_size}, "
                          f"found {chunk_size}")
    return raw


def _read_frame(buffer: _Buffer, facts: SealedFacts, index: int, what: str) -> tuple[bool, bytes]:
    prefix = buffer.take(PREFIX.size)
    if prefix is None or len(prefix) < PREFIX.size:
        raise BlobCorrupt(f"{what}: the stored object ends after {index} of {facts.chunk_count} chunks (truncated)")
    (word,) = PREFIX.unpack(prefix)
    last, length = bool(word & LAST_FLAG), word & ~LAST_FLAG
    if not TAG_BYTES <= length <= facts.chunk_size + TAG_BYTES:
        raise BlobCorrupt(f"{what}: chunk {index + 1} of {facts.chunk_count} claims {length} bytes; expected "
                          f"{TAG_BYTES} to {facts.chunk_size + TAG_BYTES}")
    sealed = buffer.take(length)
    if sealed is None or len(sealed) < length:
        raise BlobCorrupt(f"{what}: chunk {index + 1} of {facts.chunk_count} is cut short (truncated)")
    return last, sealed


def _check_whole(buffer: _Buffer, digest: str, size: int, facts: SealedFacts, what: str) -> None:
    if not buffer.at_end():
        raise BlobCorrupt(f"{what}: bytes follow the last of its {facts.chunk_count} chunks")
    if size != facts.size or digest != facts.digest:
        raise BlobCorrupt(f"{what}: expected {facts.size} bytes hashing to sha256 {facts.digest}, "
                          f"the stored chunks hold {size} bytes hashing to {digest}")
