"""Exit codes and the user-facing error type, shared by every entry point.

Kept free of heavy imports: the fast ``explain`` path reports errors through here too.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_FAILURE_FOUND = 1
EXIT_USAGE = 2


class InputError(Exception):
    """Unusable input: the message is shown to the user as one line, and tlsdiag exits with 2."""


def fail(message: str) -> int:
    """Print the one-line error the contract promises and return the usage exit code."""
    sys.stderr.write(f"tlsdiag: error: {message}\n")
    return EXIT_USAGE
