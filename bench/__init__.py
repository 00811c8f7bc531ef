"""Benchmarks of commsvc's hot paths (`make bench`) and the data generator they need."""
