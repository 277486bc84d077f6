"""``python -m api``: the ``tempox`` command line."""

from api.cli import main

if __name__ == "__main__":
    main(prog_name="tempox")
