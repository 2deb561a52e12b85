"""``python -m mqchat``."""

import sys

from mqchat.cli import main

sys.exit(main())
