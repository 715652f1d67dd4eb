"""``python -m tlsdiag``: the same entry point as the ``tlsdiag`` console script."""

from tlsdiag.entry import main

if __name__ == "__main__":
    raise SystemExit(main())
