"""``python -m terminal`` runs the command-line interface."""

from terminal.cli.app import main

main()
