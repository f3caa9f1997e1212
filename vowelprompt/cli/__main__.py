"""``python -m vowelprompt.cli``: the same CLI as the ``vowelprompt`` console script."""

import sys

from vowelprompt.cli import main

sys.exit(main())
