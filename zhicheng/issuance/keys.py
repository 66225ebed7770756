"""Issuers' signing keys (Ed25519), kept under ZHICHENG_HOME/keys, never in the repository.

    keys/<issuer region>/<key_id>.key      private key, PKCS#8 PEM, mode 0600
    keys/<issuer region>/<key_id>.pub      public key, SubjectPublicKeyInfo PEM
    keys/<issuer region>/<key_id>.crt      X.509: the root's word that the key is that issuer's
    keys/<issuer region>/<key_id>.json     {"key_id", "issuer", "created_at", "algorithm"}
    keys/<issuer region>/current           the key_id that signs from now on
    keys/_root/root.key, root.crt          the key set's root (signs key certificates only)

key_id = "<issuer region>-<first 16 hex of SHA-256 of the raw public key>". Rotating
(generating again) writes a new key and moves `current`; old keys stay, so every
certificate signed with them still verifies. `publication()` is the public half of all
keys with their certificates and the root, for third parties; `PublishedKeys` reads it
back and accepts a key only as the issuer its root-signed certificate names.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from zhicheng.errors import BadValue
from zhicheng.issuance import key_certificates as kc
from zhicheng.private_files import private_dir

ALGORITHM = "Ed25519"
FORMAT = "zhicheng-published-keys/2"
_ISSUER = re.compile(r"^\d{6}$")
ROOT_FOLDER = "_root"


class MissingKey(LookupError):
    """No usable key (unknown issuer or key id); the message says what to run."""


class KeySetRefused(ValueError):
    """A published key set that does not bind its keys to their issuers; names the key."""


@dataclass(frozen=True)
class IssuerKey:
    """A public key and the issuer (region code) it belongs to."""

    key_id: str
    issuer: str
    public: Ed25519PublicKey


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
        self._public: dict[str, IssuerKey] = {}
        self._root_pair: tuple[Ed25519PrivateKey, x509.Certificate] | None = None

    @classmethod
    def for_home(cls, home: Path) -> "KeyStore":
        return cls(Path(home) / "keys")

    def generate(self, issuer: str, *, now: dt.datetime) -> str:
        """A new key for the issuer, made current; returns its key_id."""
        if not _ISSUER.match(issuer or ""):
            raise BadValue(f"issuer must be its 6-digit region code, got {issuer!r}")
        private = Ed25519PrivateKey.generate()
        key_id = key_id_of(issuer, private.public_key())
        folder = private_dir(self.root / issuer)
        os.chmod(self.root, 0o700)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        _write(folder / f"{key_id}.key", pem, mode=0o600)
        _write(folder / f"{key_id}.pub", public_pem(private.public_key()).encode())
        meta = {"key_id": key_id, "issuer": issuer, "algorithm": ALGORITHM,
                "created_at": now.isoformat()}
        _write(folder / f"{key_id}.json", json.dumps(meta, ensure_ascii=False).encode())
        self._certify(issuer, key_id, private.public_key())
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

    def issuer_key(self, key_id: str) -> IssuerKey | None:
        """A key of this store, with the issuer whose folder holds it."""
        if key_id in self._public:
            return self._public[key_id]
        issuer = key_id.split("-", 1)[0]
        path = self.root / issuer / f"{key_id}.pub"
        if not _ISSUER.match(issuer) or not path.exists():
            return None
        public = serialization.load_pem_public_key(path.read_bytes())
        assert isinstance(public, Ed25519PublicKey)
        self._public[key_id] = IssuerKey(key_id, issuer, public)
        return self._public[key_id]

    # -- the root and the key certificates ------------------------------------------
    def _root(self) -> tuple[Ed25519PrivateKey, x509.Certificate]:
        """The key set's root, made on first use: whole in a folder of its own, renamed into
        place, so two processes making it at once end with one root (the loser's goes)."""
        if self._root_pair is not None:
            return self._root_pair
        folder = self.root / ROOT_FOLDER
        if not (folder / "root.crt").exists():
            self.root.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)
            making = self.root / f".{ROOT_FOLDER}-{uuid.uuid4().hex}"
            making.mkdir(mode=0o700)
            private = Ed25519PrivateKey.generate()
            _write(making / "root.key", private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
                mode=0o600)
            _write(making / "root.crt", kc.pem(kc.root_certificate(private)).encode())
            try:
                os.rename(making, folder)
            except OSError:  # another process made it first
                shutil.rmtree(making, ignore_errors=True)
        loaded = serialization.load_pem_private_key((folder / "root.key").read_bytes(), password=None)
        assert isinstance(loaded, Ed25519PrivateKey)
        self._root_pair = (loaded, kc.load((folder / "root.crt").read_text()))
        return self._root_pair

    def root_certificate(self) -> x509.Certificate:
        return self._root()[1]

    def _certify(self, issuer: str, key_id: str, public: Ed25519PublicKey) -> str:
        private, root = self._root()
        text = kc.pem(kc.issuer_certificate(private, root, issuer, public))
        _write(self.root / issuer / f"{key_id}.crt", text.encode())
        return text

    def _certificate_pem(self, meta: dict) -> str:
        """The key's certificate; a key made before key certificates existed gets one now."""
        path = self.root / meta["issuer"] / f"{meta['key_id']}.crt"
        if path.exists():
            return path.read_text()
        public = self.issuer_key(meta["key_id"])
        assert public is not None
        return self._certify(meta["issuer"], meta["key_id"], public.public)

    def published(self) -> list[dict]:
        """Every public key (old ones too) with its certificate: what a third party needs."""
        out = []
        for meta_path in sorted(self.root.glob("*/*.json")):
            meta = json.loads(meta_path.read_text())
            pub = meta_path.with_suffix(".pub").read_text()
            current = self.current_key_id(meta["issuer"]) == meta["key_id"]
            out.append({**meta, "current": current, "public_key_pem": pub,
                        "certificate_pem": self._certificate_pem(meta)})
        return out

    def publication(self) -> dict[str, Any]:
        """The key set to publish (`zhicheng keys export`)."""
        root = self.root_certificate()
        return {"format": FORMAT, "algorithm": ALGORITHM, "root_certificate_pem": kc.pem(root),
                "root_sha256": kc.fingerprint(root), "keys": self.published()}


class PublishedKeys:
    """A published key set (`zhicheng keys export`), for offline checks. Each key counts
    only as the issuer its certificate names, under the set's root; anything else in
    the file refuses the whole file (a forged or damaged publication)."""

    def __init__(self, publication: dict[str, Any]) -> None:
        if not isinstance(publication, dict) or publication.get("format") != FORMAT:
            got = publication.get("format") if isinstance(publication, dict) else type(publication).__name__
            raise KeySetRefused(f"not a key set of format {FORMAT} (got {got!r}); "
                                f"export it again with `zhicheng keys export`")
        try:
            self.root = kc.load(publication["root_certificate_pem"])
            kc.check_root(self.root)
        except (KeyError, kc.KeyCertificateInvalid) as exc:
            raise KeySetRefused(f"key set root: {exc}") from None
        self._keys = dict(self._entry(r) for r in publication.get("keys", []))

    def _entry(self, record: dict) -> tuple[str, IssuerKey]:
        key_id = str(record.get("key_id"))
        try:
            cert = kc.load(record["certificate_pem"])
            issuer = kc.issuer_of(cert, self.root)
        except (KeyError, kc.KeyCertificateInvalid) as exc:
            raise KeySetRefused(f"key {key_id}: {exc}") from None
        public = cert.public_key()
        if not isinstance(public, Ed25519PublicKey) or key_id_of(issuer, public) != key_id:
            raise KeySetRefused(f"key {key_id}: its certificate is for another key (of issuer {issuer})")
        if record.get("issuer") != issuer:
            raise KeySetRefused(f"key {key_id}: listed for issuer {record.get('issuer')}, "
                                f"but its certificate names issuer {issuer}")
        return key_id, IssuerKey(key_id, issuer, public)

    @classmethod
    def from_file(cls, path: Path) -> "PublishedKeys":
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            if isinstance(exc, KeySetRefused):
                raise KeySetRefused(f"{path}: {exc}") from None
            raise KeySetRefused(f"{path}: not a readable key set ({exc})") from None

    @property
    def root_sha256(self) -> str:
        return kc.fingerprint(self.root)

    def issuer_key(self, key_id: str) -> IssuerKey | None:
        return self._keys.get(key_id)


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
