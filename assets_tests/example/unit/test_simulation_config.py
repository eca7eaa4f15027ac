"""The simulator's own refusals."""

from __future__ import annotations

import pytest

from marketplace_example.simulation.config import SimulationConfig


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), -1.0, 0.0])
def test_the_simulation_itself_refuses_a_scale_that_is_not_a_positive_finite_number(scale):
    with pytest.raises(ValueError, match="scale must be positive"):
        SimulationConfig(scale=scale)
