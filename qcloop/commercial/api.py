"""API routes for a PO's service recommendation and its quotes.

Seen by the PO's buyer and its agency's staff; a quote is issued only through
`qcloop.commercial.services.issue_quote`. Money is a string with two decimals, beside its
currency, so no client turns it into a binary float."""

from datetime import date, datetime

from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from qcloop.accounts.api import errors
from qcloop.core.tenancy import for_user

from . import selectors, services
from .models import Quote


class ReasonOut(Schema):
    trigger: str
    title: str
    fact: str
    weight: int


class RecommendationOut(Schema):
    service: str
    label: str
    milestones: list[str]
    score: int
    reasons: list[ReasonOut]
    notes: list[str]


class QuoteLineOut(Schema):
    milestone: str
    amount: str
    basis: str
    man_days: int | None = None
    sample_size: int | None = None


class QuoteOptionOut(Schema):
    name: str
    label: str
    available: bool
    total: str | None
    saving: str | None
    saving_percent: str | None
    note: str


class QuoteOut(Schema):
    id: int
    reference: str
    po: int
    number: int
    currency: str
    milestones: list[str]
    lot_size: int
    service: str
    lines: list[QuoteLineOut]
    options: list[QuoteOptionOut]
    separate_total: str
    bundle_total: str | None
    retainer_total: str | None
    valid_until: date
    status: str
    accepted_option: str
    issued_at: datetime

    @staticmethod
    def resolve_po(quote):
        return quote.po_id

    @staticmethod
    def resolve_separate_total(quote):
        return str(quote.separate_total)

    @staticmethod
    def resolve_bundle_total(quote):
        return None if quote.bundle_total is None else str(quote.bundle_total)

    @staticmethod
    def resolve_retainer_total(quote):
        return None if quote.retainer_total is None else str(quote.retainer_total)


class QuoteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    milestones: list[str] | None = Field(
        None, description="The milestones to quote; the recommended ones unless told."
    )
    valid_days: int = Field(services.DEFAULT_VALIDITY_DAYS, description="Days the quote holds.")


router = Router(tags=["quotes"])


@router.get(
    "/purchase-orders/{int:po_id}/recommendation",
    response={200: RecommendationOut, **errors(401, 404)},
)
def get_recommendation(request, po_id: int):
    po = selectors.commercial_po(request.user, po_id)
    answer = services.recommend_service(by=request.user, po=po)
    return {
        "service": answer.service.value,
        "label": answer.label,
        "milestones": list(answer.milestones),
        "score": answer.score,
        "reasons": [reason.__dict__ for reason in answer.reasons],
        "notes": list(answer.notes),
    }


@router.get(
    "/purchase-orders/{int:po_id}/quotes", response={200: list[QuoteOut], **errors(401, 404)}
)
def list_quotes(request, po_id: int):
    po = selectors.commercial_po(request.user, po_id)
    return for_user(Quote, request.user).filter(po=po).select_related("po")


@router.post(
    "/purchase-orders/{int:po_id}/quotes", response={201: QuoteOut, **errors(401, 403, 404, 422)}
)
def add_quote(request, po_id: int, payload: QuoteIn):
    po = selectors.commercial_po(request.user, po_id)
    quote = services.issue_quote(
        by=request.user, po=po, milestones=payload.milestones, valid_days=payload.valid_days
    )
    return Status(201, quote)
