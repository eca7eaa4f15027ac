"""Programs the benchmark runs inside the peers' own environments (dlt's, PyAirbyte's): each
imports only its peer and the standard library, never the platform, and prints its figures as
one JSON line. ``plan.json`` (written by ``benchmarks.peers``) says what to load."""
