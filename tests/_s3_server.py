"""Fixtures for a real S3-compatible server (moto in server mode) on 127.0.0.1. Owned by the S3 work."""
