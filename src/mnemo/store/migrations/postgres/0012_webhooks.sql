-- Webhooks (docs/webhooks.md): endpoints, and the outbox of their deliveries.
--
-- webhook_endpoints: user_id is the owner (NULL: the admin's, which get the events of
-- every user). events: the event names it wants, separated by single spaces. secret: the
-- whsec_... signing secret, kept as given to the owner so that it can sign (docs/security.md).
CREATE TABLE webhook_endpoints (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" REFERENCES users(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints(user_id, created_at, id);

-- webhook_deliveries: the outbox, one row per event and endpoint, written by the trigger
-- below in the transaction of the change. No memory text: the payload is read from the
-- memory when it is sent. id: the Standard Webhooks message id (webhook-id). Times are
-- microseconds since the epoch; retry_from starts the retry window (the event, or the
-- last replay); leased_until: a worker's claim (0: none).
CREATE TABLE webhook_deliveries (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    retry_from BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    leased_until BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, seq);
CREATE INDEX webhook_deliveries_user ON webhook_deliveries(user_id);

-- Every history row (written in the change's transaction) is an event memory.<action>:
-- one delivery for each enabled endpoint of the memory's user, or of the admin's, that
-- wants it.
CREATE FUNCTION webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (id, endpoint_id, user_id, event, memory_id, occurred_at,
        status, attempts, retry_from, next_attempt_at, leased_until)
    SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, NEW.user_id,
        'memory.' || NEW.action, NEW.memory_id, NEW.at, 'pending', 0, NEW.at, NEW.at, 0
    FROM webhook_endpoints e
    WHERE e.enabled AND (e.user_id = NEW.user_id OR e.user_id IS NULL)
        AND position(' memory.' || NEW.action || ' ' IN ' ' || e.events || ' ') > 0;
    RETURN NULL;
END;
$$;
CREATE TRIGGER webhook_outbox AFTER INSERT ON memory_history
    FOR EACH ROW EXECUTE FUNCTION webhook_outbox();
