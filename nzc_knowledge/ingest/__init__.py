"""Ingestion: extract -> chunk -> tag -> embed -> build a snapshot."""
