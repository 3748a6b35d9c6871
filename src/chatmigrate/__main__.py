"""``python -m chatmigrate``: the same as the ``chatmigrate`` command."""

from chatmigrate.cli import main

if __name__ == "__main__":
    main()
