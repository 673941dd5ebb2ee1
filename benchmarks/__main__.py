"""python -m benchmarks: see `python -m benchmarks --help` and benchmarks/README.md."""

import sys

from .cli import main

sys.exit(main())
