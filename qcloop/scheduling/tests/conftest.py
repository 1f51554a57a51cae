from datetime import timedelta

import pytest

from qcloop.accounts.models import Role


@pytest.fixture
def running(world):
    """The world's PO in production: started 5 days ago at the factory, ex-factory in 30 days,
    shipping in 35 (3,000 units). `running.today` is the factory's today."""
    from qcloop.orders.services import update_purchase_order
    from qcloop.scheduling.services import factory_today

    today = factory_today(world.po)
    update_purchase_order(
        by=world.user(Role.BUYER_MANAGER),
        po=world.po,
        changes={
            "production_start": today - timedelta(days=5),
            "ex_factory_date": today + timedelta(days=30),
            "ship_date": today + timedelta(days=35),
        },
    )
    world.po.refresh_from_db()
    world.today = today
    return world
