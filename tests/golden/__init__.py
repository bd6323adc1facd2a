"""The golden tables of `tests/test_golden.py` and the script that regenerates them (see README.md)."""
