"""Test setup for tdebug: make this folder's helper modules (debugmode_brokenops) importable.

pytest runs with --import-mode=importlib, which does not put test folders on sys.path; the
helper modules here have names unique across the repository, so adding the folder is safe.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
