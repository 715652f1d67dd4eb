"""tlsdiag: tells an embedded developer why an mbedTLS connection failed and what to change."""

__version__ = "0.1.0"
