"""The webhook routes' request and response schemas, and their limits (docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mnemo.models import one_of_given
from mnemo.webhooks.addresses import MAX_URL_CHARS
from mnemo.webhooks.events import EVENTS, WebhookEvent

MAX_ENDPOINTS = 20  # per user, and for the admin
MAX_DESCRIPTION_CHARS = 200
DEFAULT_DELIVERIES_LIMIT = 50
MAX_DELIVERIES_LIMIT = 500


def _storable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        pattern=r'^[hH][tT][tT][pP][sS]?://[!"$-.0->A-~]+([/?#][!-~]*)?$',
        description="http:// or https://, printable ASCII, at most 2048 characters, no user"
        " name or password (no @ before the path); its host "
        "must resolve to public addresses unless MNEMO_WEBHOOKS_ALLOW_PRIVATE=true.",
    ),
]
Events = Annotated[
    list[WebhookEvent],
    Field(
        min_length=1,
        max_length=2 * len(EVENTS),
        description="The events to send: any of " + ", ".join(EVENTS) + " (repeats ignored).",
    ),
]
Description = Annotated[
    str,
    Field(
        max_length=MAX_DESCRIPTION_CHARS,
        pattern=r"^[^\x00-\x1f\x7f-\x9f]*$",
        description="A label: at most 200 characters, no control characters.",
    ),
    AfterValidator(_storable),
]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: Events
    description: Description = ""


class WebhookUpdate(BaseModel):
    """Any of the fields; one sent as null counts as not given."""

    model_config = ConfigDict(
        extra="forbid", **one_of_given("url", "events", "description", "enabled")
    )

    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    enabled: bool | None = None


class WebhookEndpoint(BaseModel):
    """A registered endpoint (never its secret, but when it is created)."""

    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool = Field(description="A disabled endpoint gets no new deliveries.")
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpoint):
    secret: str = Field(
        description="The signing secret (whsec_...): shown in this answer only, never again."
    )


class WebhookDelivery(BaseModel):
    """One event sent (or to send) to one endpoint."""

    id: str = Field(description="The message id, sent as the `webhook-id` header.")
    endpoint_id: str
    event: str
    user: str = Field(description="The name of the user whose memory changed.")
    memory_id: str
    status: str = Field(description="pending, delivered or failed.")
    attempts: int
    created_at: datetime = Field(description="When the change happened.")
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When it is next tried, if pending.")
    last_error: str | None = Field(description="Why the last attempt failed, if it did.")
    delivered_at: datetime | None
