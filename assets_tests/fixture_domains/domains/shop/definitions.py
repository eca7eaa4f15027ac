"""The shop fixture domain's code location."""

from pathlib import Path

import dagster as dg

from data_platform.definitions import domain_location


@dg.definitions
def defs() -> dg.Definitions:
    return domain_location(Path(__file__).parent)
