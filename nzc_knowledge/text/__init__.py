"""Language-aware text analysis shared by ingest (tagging, lexical index) and search (query analysis)."""
