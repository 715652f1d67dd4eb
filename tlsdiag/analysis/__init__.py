"""The analysis stages, in pipeline order; each stage has one module and one job.

``read`` (bytes in, clean numbered lines out) -> ``parse`` (dialect grammars and the open-world layer
turn lines into typed ``events``) -> ``fold`` (hex dumps into TLS records and messages, certificate
blocks) -> ``sessions`` (events grouped into connection attempts) and ``context`` (stack and version
inferred with evidence) -> ``summary`` (the views rules, diff and reports read). ``pipeline`` wires
them in one streaming pass.
"""
