"""``python -m dipen`` is the ``dipen`` command."""

import sys

from .cli import main

sys.exit(main())
