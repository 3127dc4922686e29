"""Webhooks (docs/webhooks.md): endpoints registered by a user or the admin, an outbox
written by the database in the transaction of every change, and signed deliveries
(Standard Webhooks) by a background task of every serving process (mnemo.jobs.webhooks)."""
