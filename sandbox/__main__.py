"""`python -m sandbox dataverse|finops ...`: see sandbox/cli.py."""

from sandbox.cli import main

main()
