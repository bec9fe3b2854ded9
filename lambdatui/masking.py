"""Deciding which environment values to hide on screen, and hiding them.

A terminal dashboard is often shown to others (screen shares, pairing, recordings), so values that
look like credentials are masked until the user asks to see them. The check errs on the side of
masking: hiding a harmless value costs one key press, showing a secret cannot be undone.
"""

from __future__ import annotations

import re

__all__ = ["SECRET_KEY_WORDS", "looks_secret", "mask"]

# Substrings of variable names that usually hold credentials (compared case-insensitively).
# Broad on purpose: "KEY" also catches MONKEY_MODE, which is an acceptable price.
SECRET_KEY_WORDS = (
    "SECRET", "TOKEN", "PASSWORD", "PASSWD", "PWD", "KEY", "PRIVATE", "CREDENTIAL", "AUTH",
    "API_KEY", "SESSION",
)

# An AWS secret access key: exactly 40 base64 characters, as the whole value. Inside longer text
# (a URL, a sentence) 40 letters in a row are ordinary, so this one is matched against all of it.
# It also hides git SHA-1s and other 40-character tokens: acceptable, see above.
_WHOLE_VALUE_SECRET = re.compile(r"[A-Za-z0-9/+=]{40}")

# Values that are credentials whatever the variable is called, found anywhere in the value.
_SECRET_VALUE_PATTERNS = (
    # AWS access key ids: long-term (AKIA) and temporary (ASIA).
    re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    # Credentials inside a URL: scheme://user:password@host.
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),
    # A PEM private key or certificate bundle.
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    # A JSON Web Token (header.payload.signature, base64url, header starting with {").
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    # Well-known token prefixes: GitHub, Slack, Stripe-style secret keys.
    re.compile(r"(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}"),
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"sk_(?:live|test)_[A-Za-z0-9]{10,}"),
)

# What a hidden value looks like. Always the same length, so the mask does not leak how long the
# secret is (a 4-character PIN and a 2 KB private key look alike).
MASK = "•" * 8


def looks_secret(key: str, value: str) -> bool:
    """True when the variable's name or its value suggests a credential."""
    upper = key.upper()
    if any(word in upper for word in SECRET_KEY_WORDS):
        return True
    text = (value or "").strip()
    if not text:
        return False
    if _WHOLE_VALUE_SECRET.fullmatch(text):
        return True
    return any(pattern.search(text) for pattern in _SECRET_VALUE_PATTERNS)


def mask(value: str) -> str:
    """The on-screen stand-in for a hidden value: fixed length, whatever the value."""
    return MASK
