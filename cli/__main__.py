"""`python -m asyncsense ...` — what editors launch."""

import sys

from .main import main

sys.exit(main())
