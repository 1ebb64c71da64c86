"""``python -m roi_xl`` runs the command line."""

from roi_xl.cli import main

main()
