"""``python -m vowelprompt.cli``: the same CLI as the ``vowelprompt`` console script."""

import sys

from vowelprompt.cli import main

if __name__ == "__main__":
    sys.exit(main())
