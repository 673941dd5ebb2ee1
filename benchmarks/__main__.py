"""python -m benchmarks: see `python -m benchmarks --help` and benchmarks/README.md."""

import sys

if sys.argv[1:2] == ["export"]:           # python -m benchmarks export ...: benchmarks/export.py
    from .export import main as export_main
    sys.exit(export_main(sys.argv[2:]))

from .cli import main

sys.exit(main())
