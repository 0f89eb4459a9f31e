"""`make bench`: every benchmark in turn."""

from __future__ import annotations

import sys

from bench import crowd

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "--users", "20"]
    crowd.main()
