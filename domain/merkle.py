"""A Merkle tree over document hashes: one root vouches for a whole issuance run.

Leaves are the SHA-256 hex digests of the issued documents, in the run's order.
Hashing keeps leaves and inner nodes apart (RFC 6962 style prefixes), so a leaf can
never be passed off as an inner node:

    leaf  = SHA-256(0x00 || digest bytes)
    inner = SHA-256(0x01 || left || right)

A level with an odd count carries its last node up unchanged. The root of no leaves
is SHA-256 of the empty string. A proof is the list of sibling hashes from the leaf
up, each with the side it sits on: [{"side": "L" | "R", "hash": hex}, ...].
Pure: standard library only.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def _leaf(digest_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(digest_hex)).digest()


def _inner(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(leaves: Sequence[str]) -> list[list[bytes]]:
    level = [_leaf(h) for h in leaves]
    levels = [level]
    while len(level) > 1:
        nxt = [_inner(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        levels.append(nxt)
        level = nxt
    return levels


def merkle_root(leaves: Sequence[str]) -> str:
    """Hex root over the leaves' digests (hex SHA-256 strings), in order."""
    if not leaves:
        return EMPTY_ROOT
    return _levels(leaves)[-1][0].hex()


def merkle_tree(leaves: Sequence[str]) -> tuple[str, list[list[dict[str, str]]]]:
    """The root and every leaf's proof, in one pass (O(n log n))."""
    if not leaves:
        return EMPTY_ROOT, []
    levels = _levels(leaves)
    proofs: list[list[dict[str, str]]] = []
    for index in range(len(leaves)):
        proof, i = [], index
        for level in levels[:-1]:
            sibling = i ^ 1
            if sibling < len(level):
                proof.append({"side": "L" if sibling < i else "R", "hash": level[sibling].hex()})
            i //= 2
        proofs.append(proof)
    return levels[-1][0].hex(), proofs


def merkle_proof(leaves: Sequence[str], index: int) -> list[dict[str, str]]:
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} of {len(leaves)}")
    return merkle_tree(leaves)[1][index]


def verify_proof(leaf_digest: str, proof: Sequence[dict[str, str]], root: str) -> bool:
    """True when the proof leads from the document's digest to the root."""
    try:
        node = _leaf(leaf_digest)
        for step in proof:
            sibling = bytes.fromhex(step["hash"])
            if step["side"] == "L":
                node = _inner(sibling, node)
            elif step["side"] == "R":
                node = _inner(node, sibling)
            else:
                return False
    except (ValueError, KeyError, TypeError):
        return False
    return node.hex() == root
