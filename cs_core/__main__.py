"""`python -m cs_core` runs the `cs` command line."""

from .cli import main

main()
