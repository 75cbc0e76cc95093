import sys

from rollsplit.cli import main

sys.exit(main())
