"""``python -m findme_admin`` = ``findme-admin``."""

from findme_admin.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
