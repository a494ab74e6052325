"""`python -m registry` runs the `resblocks` command line."""

import sys

from registry.cli import main

sys.exit(main())
