"""The benchmark suite: `make bench` (bin/bench) runs `python -m bench`. Never part of make test."""
