"""Ed25519 keys and signatures for evidence checkpoints (the `cryptography` package)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["new_key", "public_of", "sign", "verify"]

_RAW = serialization.Encoding.Raw


def new_key() -> tuple[str, str]:
    """A fresh key pair as (private, public) hex strings."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return private.hex(), key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw).hex()


def public_of(private_hex: str) -> str:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw).hex()


def sign(private_hex: str, message: bytes) -> str:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex)).sign(message).hex()


def verify(public_hex: str, message: bytes, signature_hex: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
