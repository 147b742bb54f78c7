"""CPR numbers and their pseudonyms: the one place that knows the key and the CPR shape.

A pseudonym is HMAC-SHA256(key, the 10 digits without the dash), the first 128 bits of its hex
digest written with the letters a–p, so it holds no digit and can never look like a CPR number.
The parser computes the same in SQL from ``hmac_pads``; ``pseudonym`` is its Python twin.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

# Anything shaped like a CPR number, dashed or not, wherever it stands in a text.
CPR_SHAPED = r"[0-9]{6}-?[0-9]{4}"
CPR_MASK = "[cpr fjernet]"
PSEUDONYM_PATTERN = r"^[a-p]{32}$"
_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def normalise_cpr(cpr: str) -> str:
    """``010190-1234`` or ``0101901234`` -> ``0101901234``; ValueError (without the value) else."""
    text = cpr.strip()
    if not re.fullmatch(CPR_SHAPED, text):
        raise ValueError("not a CPR number (DDMMYY-XXXX or 10 digits)")
    digits = text.replace("-", "")
    try:
        datetime.strptime(digits[:6], "%d%m%y")
    except ValueError:
        raise ValueError("not a CPR number: the first six digits are not a date") from None
    return digits


def pseudonym(cpr: str, key: str) -> str:
    """The pseudonym of a CPR number: what the SQL of ``read_extract`` computes, in Python."""
    digest = hmac.new(_key_bytes(key), normalise_cpr(cpr).encode(), hashlib.sha256).hexdigest()
    return digest[:32].translate(_HEX_TO_LETTERS)


def key_fingerprint(key: str) -> str:
    """Identifies the key without revealing it: loads under different keys must not be mixed."""
    digest = hmac.new(_key_bytes(key), b"barometer-warehouse key fingerprint", hashlib.sha256)
    return digest.hexdigest()[:16].translate(_HEX_TO_LETTERS)


def _key_bytes(key: str) -> bytes:
    return key.encode("utf-8")


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """HMAC (RFC 2104) as two SHA-256 passes, so SQL can compute it: inner and outer key pads."""
    block = _key_bytes(key)
    if len(block) > 64:
        block = hashlib.sha256(block).digest()
    block = block.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
