"""Fetches and caches the public keys that sign Connect install/uninstall callbacks, by ``kid``."""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .errors import AuthenticationError, InstallKeyUnavailable
from .tokens import KID_PATTERN

log = logging.getLogger(__name__)

MAX_KEY_BYTES = 16 * 1024


class InstallKeyStore:
    """Key rotation always makes a new kid, so a fetched key is cached for the life of the process."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, kid: Any) -> RSAPublicKey:
        """The RSA public key for ``kid``.

        :raises AuthenticationError: the kid is malformed or the key server doesn't know it.
        :raises InstallKeyUnavailable: the key server can't be reached or answers with something unusable.
        """
        if not isinstance(kid, str) or not KID_PATTERN.match(kid):
            raise AuthenticationError("The install JWT's kid is missing or malformed.")
        with self._lock:
            cached = self._cache.get(kid)
        if cached is not None:
            return cached
        key = self._fetch(kid)
        with self._lock:
            self._cache[kid] = key
        return key

    def _fetch(self, kid: str) -> RSAPublicKey:
        url = f"{self.base_url}/{kid}"
        try:
            resp = self.session.get(url, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("install key fetch failed kid=%s error=%s", kid, type(exc).__name__)
            raise InstallKeyUnavailable("The Connect install key server could not be reached.") from None
        if resp.status_code == 404:
            raise AuthenticationError(f"The install JWT's kid {kid!r} is unknown to the key server.")
        if resp.status_code != 200:
            log.warning("install key fetch kid=%s status=%s", kid, resp.status_code)
            raise InstallKeyUnavailable(f"The Connect install key server answered {resp.status_code}.")
        body = resp.content[:MAX_KEY_BYTES + 1]
        if len(body) > MAX_KEY_BYTES:
            raise InstallKeyUnavailable("The Connect install key server sent an oversized key.")
        try:
            key = load_pem_public_key(body)
        except (ValueError, TypeError):
            raise InstallKeyUnavailable("The Connect install key server sent something that is not a PEM key.") \
                from None
        if not isinstance(key, RSAPublicKey):
            raise InstallKeyUnavailable("The Connect install key server sent a key that is not RSA.")
        return key
