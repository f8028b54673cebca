#!/usr/bin/env python3
"""The fixture generator of @wider/data (the repository's convention: scripts/make_fixtures.py).

Writes test/fixtures/random.json with scripts/random_reference.py, the second, independent
implementation of the package's seeded randomness (also imported by experiments/twin).
Run from packages/data: /usr/bin/python3 scripts/make_fixtures.py (or pnpm fixtures).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from random_reference import main  # noqa: E402

if __name__ == "__main__":
    main()
