"""A fill reads the lots of its NDC that hold stock, however many deliveries were used up before."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, insert

from hub.domain.inventory import consume, reserve
from hub.domain.lots import Pick
from hub.persistence.database import create_schema
from hub.persistence.stock import StockRepository
from hub.persistence.tables import inventory

NDC = "00093005801"


def test_used_up_lots_are_not_read_and_a_lot_delivered_again_is(engine: Engine) -> None:
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(inventory),
            [
                {"ndc": NDC, "lot": f"OLD-{n:03}", "expiry": date(2031, 1, 1), "on_hand": 0, "reserved": 0}
                for n in range(40)
            ],
        )
        conn.execute(
            insert(inventory),
            [
                {"ndc": NDC, "lot": "EXPIRED", "expiry": date(2020, 1, 1), "on_hand": 5, "reserved": 5},
                {"ndc": NDC, "lot": "LIVE", "expiry": date(2031, 1, 1), "on_hand": 30, "reserved": 0},
                {"ndc": "00378020801", "lot": "OTHER", "expiry": date(2031, 1, 1), "on_hand": 9, "reserved": 0},
            ],
        )
    with engine.begin() as conn:
        stock = StockRepository(conn)
        lots = stock.lots(NDC, for_update=True)
        # a reservation made before its lot expired is still there to be consumed or released
        assert [item.lot for item in lots] == ["EXPIRED", "LIVE"]
        used_up = consume(
            reserve(lots, NDC, [Pick(lot="LIVE", expiry=date(2031, 1, 1), quantity=Decimal(30))]),
            NDC,
            [Pick(lot="LIVE", expiry=date(2031, 1, 1), quantity=Decimal(30))],
        )
        stock.save(used_up, before=lots)
    with engine.begin() as conn:
        assert [item.lot for item in StockRepository(conn).lots(NDC)] == ["EXPIRED"]
        StockRepository(conn).receive(NDC, "OLD-007", date(2032, 1, 1), Decimal(12))
    with engine.begin() as conn:
        again = StockRepository(conn).lots(NDC)
        assert [(item.lot, item.on_hand, item.expiry) for item in again] == [
            ("EXPIRED", 5, date(2020, 1, 1)),
            ("OLD-007", 12, date(2032, 1, 1)),
        ]
        assert len(StockRepository(conn).all_lots()) == 43, "the shelf listing still shows every lot"
