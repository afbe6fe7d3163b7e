"""python -m console.cli: the same as `wk` (tests start servers this way)."""

import sys

from console.cli import main

sys.exit(main())
