"""The example's shared build, started by the session in the background (see ``assets_tests/conftest.py``):
``python -m assets_tests.example.support.background_build <shared root>``."""

import sys
from pathlib import Path

from ...support.builds import shared_build
from .platforms import build_platform

if __name__ == "__main__":
    shared_build(Path(sys.argv[1]), "built_platform", build_platform)
