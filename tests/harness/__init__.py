"""A real mbedTLS in the test suite: a client of our own, certificates, servers and scenarios.

Fixture logs age and can be tuned to; a real library cannot. The modules here compile
``tlsclient.c`` against the system mbedTLS (``build``), generate the certificates the servers
present (``pki``), start servers on 127.0.0.1 that are bounded in time and stopped by the test
(``servers``), and describe each failure as a failing and a working run that differ in one thing
(``scenarios``). ``tests/test_realtls.py`` runs them and checks what tlsdiag says.
"""
