"""Merkle roots and proofs over document hashes (domain/merkle.py)."""
from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from zhicheng.domain.merkle import (EMPTY_ROOT, merkle_proof, merkle_root, merkle_tree,
                                    verify_proof)

digests = st.lists(st.binary(min_size=1, max_size=8).map(lambda b: hashlib.sha256(b).hexdigest()),
                   min_size=1, max_size=40)


def h(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def test_empty_and_single():
    assert merkle_root([]) == EMPTY_ROOT
    root, proofs = merkle_tree([h(1)])
    assert proofs == [[]] and verify_proof(h(1), [], root)
    assert root != h(1)  # a leaf is hashed with its own prefix


def test_two_leaves_by_hand():
    a, b = bytes.fromhex(h(1)), bytes.fromhex(h(2))
    la = hashlib.sha256(b"\x00" + a).digest()
    lb = hashlib.sha256(b"\x00" + b).digest()
    assert merkle_root([h(1), h(2)]) == hashlib.sha256(b"\x01" + la + lb).hexdigest()


def test_order_matters_and_proof_binds_position():
    leaves = [h(i) for i in range(5)]
    assert merkle_root(leaves) != merkle_root(list(reversed(leaves)))
    root = merkle_root(leaves)
    assert not verify_proof(leaves[1], merkle_proof(leaves, 0), root)


def test_garbage_proof_is_false_not_an_error():
    assert not verify_proof(h(1), [{"side": "X", "hash": h(2)}], merkle_root([h(1), h(2)]))
    assert not verify_proof(h(1), [{"side": "L", "hash": "zz"}], merkle_root([h(1), h(2)]))


@given(digests)
def test_every_proof_verifies(leaves):
    root, proofs = merkle_tree(leaves)
    assert root == merkle_root(leaves)
    for leaf, proof in zip(leaves, proofs, strict=True):
        assert verify_proof(leaf, proof, root)
        assert len(proof) <= len(leaves).bit_length()


@given(digests, st.data())
def test_a_changed_leaf_fails(leaves, data):
    root, proofs = merkle_tree(leaves)
    i = data.draw(st.integers(0, len(leaves) - 1))
    other = hashlib.sha256(b"tampered" + leaves[i].encode()).hexdigest()
    assert not verify_proof(other, proofs[i], root)
