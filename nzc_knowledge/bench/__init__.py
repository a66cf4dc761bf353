"""Benchmarks: ingest throughput against raw encoding, search latency over HTTP against raw retrieval cost."""
