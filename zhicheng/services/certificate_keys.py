"""Issuers' signing keys (Ed25519), kept under ZHICHENG_HOME/keys, never in the repository.

    keys/<issuer region>/<key_id>.key      private key, PKCS#8 PEM, mode 0600
    keys/<issuer region>/<key_id>.pub      public key, SubjectPublicKeyInfo PEM
    keys/<issuer region>/<key_id>.json     {"key_id", "issuer", "created_at", "algorithm"}
    keys/<issuer region>/current           the key_id that signs from now on

key_id = "<issuer region>-<first 16 hex of SHA-256 of the raw public key>". Rotating
(generating again) writes a new key and moves `current`; old keys stay, so every
certificate signed with them still verifies. `published()` is the public half of all
keys, for third parties.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"
_ISSUER = re.compile(r"^\d{6}$")


class MissingKey(LookupError):
    """No usable key (unknown issuer or key id); the message says what to run."""


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    issuer: str
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def key_id_of(issuer: str, public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{issuer}-{hashlib.sha256(raw).hexdigest()[:16]}"


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def verify_signature(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
        return True
    except InvalidSignature:
        return False


class KeyStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._signing: dict[str, SigningKey] = {}
        self._public: dict[str, Ed25519PublicKey] = {}

    @classmethod
    def for_home(cls, home: Path) -> "KeyStore":
        return cls(Path(home) / "keys")

    def generate(self, issuer: str, *, now: dt.datetime) -> str:
        """A new key for the issuer, made current; returns its key_id."""
        if not _ISSUER.match(issuer or ""):
            raise ValueError(f"issuer must be its 6-digit region code, got {issuer!r}")
        private = Ed25519PrivateKey.generate()
        key_id = key_id_of(issuer, private.public_key())
        folder = self.root / issuer
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        _write(folder / f"{key_id}.key", pem, mode=0o600)
        _write(folder / f"{key_id}.pub", public_pem(private.public_key()).encode())
        meta = {"key_id": key_id, "issuer": issuer, "algorithm": ALGORITHM,
                "created_at": now.isoformat()}
        _write(folder / f"{key_id}.json", json.dumps(meta, ensure_ascii=False).encode())
        _write(folder / "current", key_id.encode())  # last: the key is whole before it is used
        self._signing.pop(issuer, None)
        return key_id

    def current_key_id(self, issuer: str) -> str | None:
        path = self.root / issuer / "current"
        return path.read_text().strip() if path.exists() else None

    def signing_key(self, issuer: str, *, auto_generate: bool = False,
                    now: dt.datetime | None = None) -> SigningKey:
        cached = self._signing.get(issuer)
        if cached is not None:
            return cached
        key_id = self.current_key_id(issuer)
        if key_id is None:
            if not auto_generate:
                raise MissingKey(f"issuer {issuer} has no signing key; run "
                                f"`zhicheng keys generate --issuer {issuer}`")
            key_id = self.generate(issuer, now=now or dt.datetime.now(dt.timezone.utc))
        private = serialization.load_pem_private_key(
            (self.root / issuer / f"{key_id}.key").read_bytes(), password=None)
        assert isinstance(private, Ed25519PrivateKey)
        key = SigningKey(key_id=key_id, issuer=issuer, private=private)
        self._signing[issuer] = key
        return key

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        if key_id in self._public:
            return self._public[key_id]
        issuer = key_id.split("-", 1)[0]
        path = self.root / issuer / f"{key_id}.pub"
        if not _ISSUER.match(issuer) or not path.exists():
            return None
        public = serialization.load_pem_public_key(path.read_bytes())
        assert isinstance(public, Ed25519PublicKey)
        self._public[key_id] = public
        return public

    def published(self) -> list[dict]:
        """Every public key (old ones too), for publication: what a third party needs."""
        out = []
        for meta_path in sorted(self.root.glob("*/*.json")):
            meta = json.loads(meta_path.read_text())
            pub = meta_path.with_suffix(".pub").read_text()
            current = self.current_key_id(meta["issuer"]) == meta["key_id"]
            out.append({**meta, "current": current, "public_key_pem": pub})
        return out


class PublishedKeys:
    """Public keys from an exported file (`zhicheng keys export`), for offline checks."""

    def __init__(self, records: list[dict]) -> None:
        self._keys = {r["key_id"]: serialization.load_pem_public_key(r["public_key_pem"].encode())
                      for r in records}

    @classmethod
    def from_file(cls, path: Path) -> "PublishedKeys":
        return cls(json.loads(Path(path).read_text())["keys"])

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self._keys.get(key_id)


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
