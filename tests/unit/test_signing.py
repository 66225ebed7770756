import hashlib
import hmac

from zhicheng.domain.signing import check_request, signed_headers, string_to_sign


def test_string_to_sign_follows_the_contract():
    s = string_to_sign("get", "/api/v1/submissions?cursor=abc&limit=10", "1700000000",
                       "abcdefghijklmnop", b"")
    assert s.split("\n") == ["GET", "/api/v1/submissions?cursor=abc&limit=10", "1700000000",
                             "abcdefghijklmnop", hashlib.sha256(b"").hexdigest()]
    assert not s.endswith("\n")


def test_signature_is_hmac_sha256_hex_of_that_string():
    body = '{"a":1}'.encode()
    h = signed_headers("app", "s3cret", "POST", "/x", body, 1700000000, nonce="N" * 16)
    want = hmac.new(b"s3cret", string_to_sign("POST", "/x", "1700000000", "N" * 16, body).encode(),
                    hashlib.sha256).hexdigest()
    assert h["X-Signature"] == want


def test_server_side_checks():
    h = signed_headers("app", "s3cret", "GET", "/x?a=1", b"", 1700000000)
    assert check_request(h, {"app": "s3cret"}, "GET", "/x?a=1", b"", 1700000100) is None
    assert check_request(h, {"app": "s3cret"}, "GET", "/x?a=2", b"", 1700000100).error == "bad_signature"
    assert check_request(h, {"app": "other"}, "GET", "/x?a=1", b"", 1700000100).error == "bad_signature"
    assert check_request(h, {"app": "s3cret"}, "GET", "/x?a=1", b"", 1700000301).error == "stale_timestamp"
    bad_nonce = {**h, "X-Nonce": "short"}
    assert check_request(bad_nonce, {"app": "s3cret"}, "GET", "/x?a=1", b"", 1700000000).status == 401
