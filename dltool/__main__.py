"""``python -m dltool``: the same entry as the ``dltool`` console script."""

from dltool.cli import main

if __name__ == "__main__":
    main(prog_name="dltool")
