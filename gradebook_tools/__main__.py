"""``python -m gradebook_tools``: the same as the ``gradebook-tools`` command."""

import sys

from .cli import main

sys.exit(main())
