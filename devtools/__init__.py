"""Tooling that runs real processes for the demo, the end-to-end tests and the benchmarks.

Not product code: it may import boto3 (the product talks to AWS through one module only).
"""
