"""Parts of scripts/benchmark.py: running and measuring contenders, the peer, the plain loop."""
