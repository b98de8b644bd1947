"""The soak (`make soak`, bin/soak): faults and load. See bench/soak/run.py."""
