"""`python -m mnemo` runs the `mnemo` command."""

from mnemo.cli import main

main()
