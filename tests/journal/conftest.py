from __future__ import annotations

import pytest
from sim_rig import Rig

from terminal.operators import Operators, Role


@pytest.fixture
def rig(tmp_path):
    made = Rig(tmp_path)
    yield made
    made.close()


@pytest.fixture
def staff(rig):
    """The lane's admin, supervisor and cashier: boss, sue, carl (admin-pw, sup-pw, cash-pw)."""
    ops = Operators(rig.journal, "10008060")
    ops.add("boss", Role.ADMIN, "admin-pw", by=None)
    ops.add("sue", Role.SUPERVISOR, "sup-pw", by="boss")
    ops.add("carl", Role.CASHIER, "cash-pw", by="boss")
    return ops
