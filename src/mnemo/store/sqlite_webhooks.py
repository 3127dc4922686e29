"""The SQLite backend's webhook statements (store/webhook_rows.py holds the SQL)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlean import dbapi2 as sqlite3

from mnemo.store.sqlite_db import SQLiteDatabase
from mnemo.store.webhook_rows import (
    Attempt,
    Claimed,
    Delivery,
    Endpoint,
    EndpointChange,
    WebhookSql,
    claimed_from_row,
    delivery_from_row,
    endpoint_from_row,
    endpoint_values,
)

_SQL = WebhookSql(lambda n: f"?{n}", lambda column, n: f"{column} IS ?{n}")


class SQLiteWebhooks(SQLiteDatabase):
    async def insert_endpoint(self, endpoint: Endpoint, most: int) -> bool:
        def insert(conn: sqlite3.Connection) -> bool:
            count = conn.execute(_SQL.count_endpoints, (endpoint.user_id,)).fetchone()[0]
            if count >= most:
                return False
            conn.execute(_SQL.insert_endpoint, endpoint_values(endpoint))
            return True

        return await self._write(insert, user_id=endpoint.user_id)

    async def list_endpoints(self, owner: str | None) -> list[Endpoint]:
        rows = await self._read(lambda conn: conn.execute(_SQL.list_endpoints, (owner,)).fetchall())
        return [endpoint_from_row(row) for row in rows]

    async def get_endpoint(self, owner: str | None, endpoint_id: str) -> Endpoint | None:
        row = await self._read(
            lambda conn: conn.execute(_SQL.get_endpoint, (owner, endpoint_id)).fetchone()
        )
        return None if row is None else endpoint_from_row(row)

    async def update_endpoint(
        self, owner: str | None, endpoint_id: str, change: EndpointChange
    ) -> Endpoint | None:
        def update(conn: sqlite3.Connection) -> Endpoint | None:
            row = conn.execute(_SQL.get_endpoint, (owner, endpoint_id)).fetchone()
            if row is None:
                return None
            new = change(endpoint_from_row(row))
            v = endpoint_values(new)
            conn.execute(_SQL.update_endpoint, (owner, endpoint_id, v[2], v[3], v[6], v[4], v[8]))
            return new

        return await self._write(update, user_id=owner)

    async def delete_endpoint(self, owner: str | None, endpoint_id: str) -> bool:
        deleted = await self._write(
            lambda conn: conn.execute(_SQL.delete_endpoint, (owner, endpoint_id)).rowcount > 0,
            user_id=owner,
        )
        if deleted:
            self._purge_soon()  # its secret leaves the WAL too
        return bool(deleted)

    async def list_deliveries(self, endpoint_id: str, limit: int, offset: int) -> list[Delivery]:
        rows = await self._read(
            lambda conn: conn.execute(_SQL.list_deliveries, (endpoint_id, limit, offset)).fetchall()
        )
        return [delivery_from_row(row) for row in rows]

    async def replay_delivery(
        self, endpoint_id: str, delivery_id: str, now: int
    ) -> Delivery | None:
        def replay(conn: sqlite3.Connection) -> Delivery | None:
            conn.execute(_SQL.replay, (endpoint_id, delivery_id, now))
            row = conn.execute(_SQL.get_delivery, (endpoint_id, delivery_id)).fetchone()
            return None if row is None else delivery_from_row(row)

        return await self._write(replay)

    async def claim_deliveries(self, limit: int, lease_us: int, now: int) -> list[Claimed]:
        # Which rows, read outside the write lock; the claim re-checks each lease.
        wanted = await self._read(
            lambda conn: [row[0] for row in conn.execute(_SQL.due, (now, limit, True))]
        )
        if not wanted:
            return []

        def claim(conn: sqlite3.Connection) -> list[Claimed]:
            marks = ", ".join("?" * len(wanted))
            leased = [
                row[0]
                for row in conn.execute(
                    f"UPDATE webhook_deliveries SET leased_until = ? WHERE seq IN ({marks})"
                    " AND status = 'pending' AND leased_until <= ? RETURNING seq",
                    (now + lease_us, *wanted, now),
                ).fetchall()
            ]
            if not leased:
                return []
            rows = conn.execute(WebhookSql.claimed(", ".join("?" * len(leased))), leased)
            return [claimed_from_row(row) for row in rows.fetchall()]

        return await self._write(claim)

    async def prune_deliveries(self, before_us: int, limit: int) -> int:
        pruned = await self._write(
            lambda conn: conn.execute(_SQL.prune, (before_us, limit)).rowcount
        )
        return int(pruned)

    async def finish_deliveries(self, done: Sequence[tuple[Delivery, Attempt]]) -> int:
        def finish(conn: sqlite3.Connection) -> int:
            recorded = 0
            for delivery, attempt in done:
                delivered = attempt.at if attempt.error is None else None
                recorded += conn.execute(
                    _SQL.finish,
                    (
                        delivery.seq,
                        delivery.leased_until,
                        attempt.status,
                        attempt.at,
                        attempt.next_attempt_at,
                        attempt.error,
                        delivered,
                    ),
                ).rowcount
            return recorded

        return await self._write(finish) if done else 0
