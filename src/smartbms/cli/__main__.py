"""`python -m smartbms.cli`: the same command as the installed `smartbms`."""

import sys

from smartbms.cli import main

sys.exit(main())
