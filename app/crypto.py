"""Encryption at rest: a key ring from ENCRYPTION_KEYS (newest first) or a generated instance key."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app


class DecryptionError(Exception):
    """Ciphertext that none of the configured keys opens: corrupted, tampered with, or a lost key."""


class KeyRing:
    """Encrypts with the newest key, decrypts with any; ``rotate`` re-encrypts under the newest."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        except ValueError:
            raise ValueError("ENCRYPTION_KEYS must be url-safe base64 Fernet keys (32 bytes each)") from None

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise DecryptionError("ciphertext could not be decrypted with any configured key") from None

    def rotate(self, token: bytes) -> bytes:
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise DecryptionError("ciphertext could not be decrypted with any configured key") from None

    def encrypt_text(self, text: str) -> str:
        return self.encrypt(text.encode()).decode("ascii")

    def decrypt_text(self, token: str) -> str:
        return self.decrypt(token.encode("ascii")).decode()


def _instance_key(instance_path: str) -> str:
    """The generated key in the instance folder (mode 0600), created on first run."""
    path = Path(instance_path) / "encryption.key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def init_app(app: Flask) -> None:
    raw = app.config.get("ENCRYPTION_KEYS") or ""
    keys = [k for k in (part.strip() for part in raw.split(",")) if k]
    if not keys:
        keys = [_instance_key(app.instance_path)]
    app.extensions["keyring"] = KeyRing(keys)


def keyring() -> KeyRing:
    return current_app.extensions["keyring"]
