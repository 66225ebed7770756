"""Issuance (电子证书): certificates numbered, laid out, sealed and signed in chunks; their
files, keys, verification, lifecycle (补办, 换发, 历史登记) and staff look-ups."""
