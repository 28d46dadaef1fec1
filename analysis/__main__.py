"""`python3 -m analysis ...` (run from the repository root)."""
import sys

from analysis.cli import main

sys.exit(main())
