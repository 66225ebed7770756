"""X.509 certificates that bind each signing key to its issuer (docs/certificates.md).

A root key of the key set signs one certificate per issuer key whose subject is exactly
`CN=<issuer region code>`: whoever trusts the root (its SHA-256 fingerprint is
published) learns from the key's certificate which issuer the key belongs to, with
OpenSSL alone, and a key of 320106 can never pass for one of 320500. The root signs
nothing else. Validity runs from 2020 to 9999-12-31 (RFC 5280: no expiry), because a
certificate signed years ago must still verify; the documents carry their own dates.
"""
from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

ROOT_NAME = "zhicheng issuer keys root"
VALID_FROM = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
VALID_UNTIL = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)


class KeyCertificateInvalid(ValueError):
    """A key's certificate does not bind it to an issuer under this root; says why."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not signs_certificates, content_commitment=not signs_certificates,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=signs_certificates, crl_sign=signs_certificates,
                         encipher_only=False, decipher_only=False)


def root_certificate(private: Ed25519PrivateKey) -> x509.Certificate:
    public = private.public_key()
    return (x509.CertificateBuilder().subject_name(_name(ROOT_NAME)).issuer_name(_name(ROOT_NAME))
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(VALID_FROM).not_valid_after(VALID_UNTIL)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(signs_certificates=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(private, algorithm=None))


def issuer_certificate(root_private: Ed25519PrivateKey, root: x509.Certificate, issuer: str,
                       public: Ed25519PublicKey) -> x509.Certificate:
    """The root's word that `public` is a signing key of `issuer` (a region code)."""
    return (x509.CertificateBuilder().subject_name(_name(issuer)).issuer_name(root.subject)
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(VALID_FROM).not_valid_after(VALID_UNTIL)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(signs_certificates=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_private.public_key()),
                           critical=False)
            .sign(root_private, algorithm=None))


def issuer_of(cert: x509.Certificate, root: x509.Certificate) -> str:
    """The issuer region code a key certificate names, once its root signature holds."""
    try:
        cert.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        raise KeyCertificateInvalid("its certificate is not signed by the key set's root") from None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(cert.subject) != 1 or len(names) != 1:
        raise KeyCertificateInvalid(f"its certificate's subject {cert.subject.rfc4514_string()} "
                                    "is not CN=<region code>")
    return str(names[0].value)


def check_root(root: x509.Certificate) -> None:
    try:
        root.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        raise KeyCertificateInvalid("the root certificate is not self-signed") from None


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def load(text: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(text.encode())
    except ValueError:
        raise KeyCertificateInvalid("not a PEM certificate") from None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 as OpenSSL prints it (`openssl x509 -noout -fingerprint -sha256`)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
