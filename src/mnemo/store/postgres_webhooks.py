"""The PostgreSQL backend's webhook statements (store/webhook_rows.py holds the SQL).
Workers claim due deliveries with `FOR UPDATE SKIP LOCKED`: each row goes to one of
them, and none waits for another's claim."""

from __future__ import annotations

from collections.abc import Sequence

from mnemo.store.postgres_db import Connection, PostgresDatabase
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

_SQL = WebhookSql(lambda n: f"${n}", lambda column, n: f"{column} IS NOT DISTINCT FROM ${n}::text")
_CLAIM = (
    f"WITH due AS ({_SQL.due} FOR UPDATE OF d SKIP LOCKED)"
    " UPDATE webhook_deliveries w SET leased_until = $4 FROM due WHERE w.seq = due.seq"
    " RETURNING w.seq"
)


class PostgresWebhooks(PostgresDatabase):
    async def insert_endpoint(self, endpoint: Endpoint, most: int) -> bool:
        async def insert(conn: Connection) -> bool:
            # One owner's inserts take turns, so that the count holds.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('webhooks:' || coalesce($1::text, '')))",
                endpoint.user_id,
            )
            if await conn.fetchval(_SQL.count_endpoints, endpoint.user_id) >= most:
                return False
            await conn.execute(_SQL.insert_endpoint, *endpoint_values(endpoint))
            return True

        return await self._write(insert)

    async def list_endpoints(self, owner: str | None) -> list[Endpoint]:
        rows = await self._read(lambda conn: conn.fetch(_SQL.list_endpoints, owner))
        return [endpoint_from_row(row) for row in rows]

    async def get_endpoint(self, owner: str | None, endpoint_id: str) -> Endpoint | None:
        row = await self._read(lambda conn: conn.fetchrow(_SQL.get_endpoint, owner, endpoint_id))
        return None if row is None else endpoint_from_row(row)

    async def update_endpoint(
        self, owner: str | None, endpoint_id: str, change: EndpointChange
    ) -> Endpoint | None:
        async def update(conn: Connection) -> Endpoint | None:
            row = await conn.fetchrow(_SQL.get_endpoint + " FOR UPDATE", owner, endpoint_id)
            if row is None:
                return None
            new = change(endpoint_from_row(row))
            v = endpoint_values(new)
            await conn.execute(
                _SQL.update_endpoint, owner, endpoint_id, v[2], v[3], v[6], v[4], v[8]
            )
            return new

        return await self._write(update)

    async def delete_endpoint(self, owner: str | None, endpoint_id: str) -> bool:
        status = await self._write(
            lambda conn: conn.execute(_SQL.delete_endpoint, owner, endpoint_id)
        )
        return bool(status != "DELETE 0")

    async def list_deliveries(self, endpoint_id: str, limit: int, offset: int) -> list[Delivery]:
        rows = await self._read(
            lambda conn: conn.fetch(_SQL.list_deliveries, endpoint_id, limit, offset)
        )
        return [delivery_from_row(row) for row in rows]

    async def replay_delivery(
        self, endpoint_id: str, delivery_id: str, now: int
    ) -> Delivery | None:
        async def replay(conn: Connection) -> Delivery | None:
            await conn.execute(_SQL.replay, endpoint_id, delivery_id, now)
            row = await conn.fetchrow(_SQL.get_delivery, endpoint_id, delivery_id)
            return None if row is None else delivery_from_row(row)

        return await self._write(replay)

    async def claim_deliveries(self, limit: int, lease_us: int, now: int) -> list[Claimed]:
        async def claim(conn: Connection) -> list[Claimed]:
            leased = [row[0] for row in await conn.fetch(_CLAIM, now, limit, True, now + lease_us)]
            if not leased:
                return []
            rows = await conn.fetch(WebhookSql.claimed("SELECT unnest($1::bigint[])"), leased)
            return [claimed_from_row(row) for row in rows]

        return await self._write(claim)

    async def prune_deliveries(self, before_us: int, limit: int) -> int:
        status = await self._write(lambda conn: conn.execute(_SQL.prune, before_us, limit))
        return int(status.rsplit(" ", 1)[1])

    async def finish_deliveries(self, done: Sequence[tuple[Delivery, Attempt]]) -> int:
        async def finish(conn: Connection) -> int:
            recorded = 0
            # In one order (as every multi-row statement meets them), so that two
            # transactions locking the same rows are less likely to deadlock.
            for delivery, attempt in sorted(done, key=lambda pair: pair[0].seq):
                delivered = attempt.at if attempt.error is None else None
                status = await conn.execute(
                    _SQL.finish,
                    delivery.seq,
                    delivery.leased_until,
                    attempt.status,
                    attempt.at,
                    attempt.next_attempt_at,
                    attempt.error,
                    delivered,
                )
                recorded += int(status.rsplit(" ", 1)[1])
            return recorded

        return await self._write(finish) if done else 0
