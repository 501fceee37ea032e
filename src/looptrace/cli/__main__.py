"""`python -m looptrace.cli`."""

from __future__ import annotations

import sys

from looptrace.cli import main

sys.exit(main())
