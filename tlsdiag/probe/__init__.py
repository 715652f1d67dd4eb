"""``tlsdiag probe``: a server's real TLS profile held against a device's mbedTLS build.

Most connection failures of a device come from a mismatch nobody sees until the firmware runs: a TLS
1.3-only endpoint against a 2.x build, a chain longer than the input buffer, a root the device does not
carry, a server that needs SNI or a client certificate, a curve the build left out. Scanners describe the
server alone and configuration tools describe the device alone; this package holds one against the other.

Layers: ``profile`` (what a server does, whatever measured it), ``scan`` (measure it live: sslyze as a
library, plus ``handshake`` for what sslyze does not record) and ``reports`` (read a saved sslyze or
testssl.sh JSON report), ``device`` (what a build can do: a configuration, a log's ClientHello, or a named
preset), ``trust`` (does the chain lead to one of the device's roots), ``match`` (the verdict and its
blockers). Nothing here prints; sslyze is imported only by ``scan``, so the rest works without it.
"""
