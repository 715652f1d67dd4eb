"""``python -m tlsdiag``: the same entry point as the ``tlsdiag`` console script."""

from tlsdiag.entry import run

if __name__ == "__main__":
    run()
