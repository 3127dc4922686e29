"""The webhook rules: ownership (a user's id, or None: the admin's), the URL check, the
number of endpoints, paging; routes call one function here each (docs/webhooks.md)."""

from __future__ import annotations

from mnemo.clock import new_id, now_us
from mnemo.errors import Conflict, NotFound, Unprocessable
from mnemo.service import page_bounds, plausible_id
from mnemo.store import Store
from mnemo.store.webhook_rows import Delivery, Endpoint
from mnemo.webhooks.addresses import Refused, check_url
from mnemo.webhooks.events import canonical
from mnemo.webhooks.models import (
    MAX_DELIVERIES_LIMIT,
    MAX_ENDPOINTS,
    WebhookCreate,
    WebhookUpdate,
)
from mnemo.webhooks.sender import new_secret

ENDPOINT_NOT_FOUND = "Webhook endpoint not found"
DELIVERY_NOT_FOUND = "Delivery not found"
TOO_MANY = f"At most {MAX_ENDPOINTS} webhook endpoints each; delete one first"
NOTHING_GIVEN = "At least one field must be provided"


class WebhookService:
    def __init__(self, store: Store, *, allow_private: bool) -> None:
        self.store = store
        self.allow_private = allow_private

    async def _checked(self, url: str) -> str:
        try:
            return await check_url(url, self.allow_private)
        except Refused as refused:
            raise Unprocessable(f"Cannot send webhooks there: {refused}") from None

    async def create(self, owner: str | None, body: WebhookCreate) -> Endpoint:
        """A new enabled endpoint with a new secret; 422 for a URL that may not be used,
        409 past `MAX_ENDPOINTS`."""
        url = await self._checked(body.url)
        at = now_us()
        endpoint = Endpoint(
            id=new_id(),
            user_id=owner,
            url=url,
            events=canonical(body.events),
            description=body.description,
            secret=new_secret(),
            enabled=True,
            created_at=at,
            updated_at=at,
        )
        if not await self.store.insert_endpoint(endpoint, MAX_ENDPOINTS):
            raise Conflict(TOO_MANY)
        return endpoint

    async def endpoints(self, owner: str | None) -> list[Endpoint]:
        return await self.store.list_endpoints(owner)

    async def get(self, owner: str | None, endpoint_id: str) -> Endpoint:
        found = (
            await self.store.get_endpoint(owner, endpoint_id) if plausible_id(endpoint_id) else None
        )
        if found is None:
            raise NotFound(ENDPOINT_NOT_FOUND)
        return found

    async def update(self, owner: str | None, endpoint_id: str, patch: WebhookUpdate) -> Endpoint:
        """Apply the fields given (not null) atomically; 422 if none or a bad URL, 404 if
        unknown."""
        given = patch.model_dump(exclude_none=True)
        if not given:
            raise Unprocessable(NOTHING_GIVEN)
        await self.get(owner, endpoint_id)  # an unknown id is a 404 before the URL's check
        url = None if patch.url is None else await self._checked(patch.url)
        at = now_us()

        def change(current: Endpoint) -> Endpoint:
            return Endpoint(
                id=current.id,
                user_id=current.user_id,
                url=current.url if url is None else url,
                events=current.events if patch.events is None else canonical(patch.events),
                description=current.description if patch.description is None else patch.description,
                secret=current.secret,
                enabled=current.enabled if patch.enabled is None else patch.enabled,
                created_at=current.created_at,
                updated_at=max(at, current.updated_at + 1),
            )

        updated = await self.store.update_endpoint(owner, endpoint_id, change)
        if updated is None:
            raise NotFound(ENDPOINT_NOT_FOUND)
        return updated

    async def delete(self, owner: str | None, endpoint_id: str) -> None:
        """The endpoint and its deliveries, at once."""
        if not (plausible_id(endpoint_id) and await self.store.delete_endpoint(owner, endpoint_id)):
            raise NotFound(ENDPOINT_NOT_FOUND)

    async def deliveries(
        self, owner: str | None, endpoint_id: str, limit: int, offset: int
    ) -> list[Delivery]:
        """A page of the endpoint's deliveries, newest first; `limit` clamped to 1-500."""
        endpoint = await self.get(owner, endpoint_id)
        bounds = page_bounds(limit, offset, MAX_DELIVERIES_LIMIT)
        return await self.store.list_deliveries(endpoint.id, *bounds)

    async def replay(self, owner: str | None, endpoint_id: str, delivery_id: str) -> Delivery:
        """Send it again now (pending, a new retry window), whatever its status."""
        endpoint = await self.get(owner, endpoint_id)
        found = (
            await self.store.replay_delivery(endpoint.id, delivery_id, now_us())
            if plausible_id(delivery_id)
            else None
        )
        if found is None:
            raise NotFound(DELIVERY_NOT_FOUND)
        return found
