"""`python -m costcalc`: the same as the `costcalc` command."""

from .cli import main

if __name__ == "__main__":
    main()
