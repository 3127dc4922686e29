-- Webhooks (docs/webhooks.md): endpoints, and the outbox of their deliveries.
--
-- webhook_endpoints: user_id is the owner (NULL: the admin's, which get the events of
-- every user). events: the event names it wants, separated by single spaces. secret: the
-- whsec_... signing secret, kept as given to the owner so that it can sign (docs/security.md).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints(user_id, created_at, id);

-- webhook_deliveries: the outbox, one row per event and endpoint, written by the trigger
-- below in the transaction of the change. No memory text: the payload is read from the
-- memory when it is sent. id: the Standard Webhooks message id (webhook-id). Times are
-- microseconds since the epoch; retry_from starts the retry window (the event, or the
-- last replay); leased_until: a worker's claim (0: none).
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    retry_from INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    leased_until INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_error TEXT,
    delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, seq);
CREATE INDEX webhook_deliveries_user ON webhook_deliveries(user_id);

-- Every history row (written in the change's transaction) is an event memory.<action>:
-- one delivery for each enabled endpoint of the memory's user, or of the admin's, that
-- wants it.
CREATE TRIGGER webhook_outbox AFTER INSERT ON memory_history BEGIN
    INSERT INTO webhook_deliveries (id, endpoint_id, user_id, event, memory_id, occurred_at,
        status, attempts, retry_from, next_attempt_at, leased_until)
    SELECT 'msg_' || lower(hex(randomblob(16))), e.id, new.user_id, 'memory.' || new.action,
        new.memory_id, new.at, 'pending', 0, new.at, new.at, 0
    FROM webhook_endpoints e
    WHERE e.enabled = 1 AND (e.user_id = new.user_id OR e.user_id IS NULL)
        AND instr(' ' || e.events || ' ', ' memory.' || new.action || ' ') > 0;
END;
