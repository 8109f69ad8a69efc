"""`python -m costcalc`: the same as the `costcalc` command."""

from .console import main  # Ctrl-C while the command loads exits 130 too

if __name__ == "__main__":
    main()
