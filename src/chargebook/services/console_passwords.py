"""Console passwords and one-time tokens: argon2id hashing, the password and email rules.

Passwords are hashed with argon2id (argon2-cffi's defaults: RFC 9106's low-memory profile,
64 MiB, 3 passes), in a thread so that hashing does not stall the event loop.
Invitation and session tokens carry 256 random bits, so one SHA-256 is their hash.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chargebook.domain.errors import InvalidRequest

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 takes any length; a cap keeps a hostile form from costing much
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}$")
#: argon2id with argon2-cffi's defaults. Tests swap in cheaper parameters (the suite creates
#: hundreds of accounts on a shared 2-core machine); production never changes it.
HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so that the answer takes as long as for a known one
    (made on first use: hashing at import would slow every command's start)."""
    return HASHER.hash(secrets.token_urlsafe(16))


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not _EMAIL.match(value):
        raise InvalidRequest("email: not a valid email address")
    return value


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidRequest(f"password: at most {MAX_PASSWORD} characters")


def hash_token(token: str) -> str:
    """Invitation and session tokens carry 256 random bits: one SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return HASHER.verify(stored or _dummy_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def one_time_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def needs_rehash(stored: str) -> bool:
    return HASHER.check_needs_rehash(stored)
