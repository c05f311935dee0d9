#!/usr/bin/env python3
"""Independent re-computation of the state-root test vector in docs/store.md.

Implements the leaf encoding of docs/store.md and the Jellyfish Merkle root
as the plain definition of a compressed binary sparse Merkle tree over the
256-bit key hashes (no jmt code involved):

    hash(empty subtree)        = b"SPARSE_MERKLE_PLACEHOLDER_HASH__"
    hash(subtree with 1 leaf)  = SHA256(b"JMT::LeafNode" || key_hash || SHA256(value))
    hash(otherwise)            = SHA256(b"JMT::IntrnalNode" || hash(left) || hash(right))

where `left` holds the keys whose next bit (most significant first) is 0.
Run: python3 crates/store/tests/vector.py
"""
from hashlib import sha256

PLACEHOLDER = b"SPARSE_MERKLE_PLACEHOLDER_HASH__"
KEY_DOMAIN = b"athena/state-key/v1"


def key_hash(kind, address, slot=b""):
    return sha256(KEY_DOMAIN + bytes([kind]) + address + slot).digest()


def bit(h, i):
    return (h[i // 8] >> (7 - i % 8)) & 1


def root(leaves, depth=0):
    if not leaves:
        return PLACEHOLDER
    if len(leaves) == 1:
        (k, v), = leaves.items()
        return sha256(b"JMT::LeafNode" + k + sha256(v).digest()).digest()
    left = {k: v for k, v in leaves.items() if bit(k, depth) == 0}
    right = {k: v for k, v in leaves.items() if bit(k, depth) == 1}
    return sha256(b"JMT::IntrnalNode" + root(left, depth + 1) + root(right, depth + 1)).digest()


def account(balance, nonce, template=None):
    out = balance.to_bytes(8, "little") + nonce.to_bytes(8, "little")
    return out + (b"\x01" + template if template else b"\x00")


template = bytes.fromhex("00000001") + b"\xaa" * 20
program = bytes.fromhex("00000000") + b"\xbb" * 20
plain = bytes.fromhex("00000000") + b"\xcc" * 20
code = b"athena store test vector code v1"
slot = (1).to_bytes(32, "big")
value = (42).to_bytes(32, "big")

leaves = {
    key_hash(1, program): account(1000, 2, template),
    key_hash(1, plain): account(5, 0),
    key_hash(2, program): b"\x07" * 32,
    key_hash(3, program, slot): value,
    key_hash(4, template): sha256(code).digest(),
}
for k, v in leaves.items():
    print("leaf", k.hex(), v.hex())
print("empty root", PLACEHOLDER.hex())
print("root", root(leaves).hex())
