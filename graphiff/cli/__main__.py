"""``python -m graphiff.cli``: the same as the ``graphiff`` console script."""
from graphiff.cli import main

if __name__ == "__main__":
    main()
