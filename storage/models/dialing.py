"""Campaigns, leads, call attempts, outcomes, callbacks and segments (SPEC §3, §5)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, _str_enum, new_attempt_id, utcnow
from storage.models.vocabulary import (
    CallResult,
    CampaignMode,
    CampaignStatus,
    LeadState,
    OutcomeCode,
)


class Campaign(Base):
    """A dialing campaign: its pacing mode, how to dial, and its limits.

    ``dial_template`` contains ``{number}`` (e.g. ``PJSIP/{number}@trunk``); ``pbx_name``
    names the ``[[pbx]]`` entry of the configuration; ``abandon_cap`` is a fraction
    (0.03 = 3 %); ``window_override`` narrows the calling windows (SPEC §4);
    ``policy`` is the negotiation policy document (or a reference to one) read by scripting.
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    mode: Mapped[CampaignMode] = mapped_column(_str_enum(CampaignMode, "mode"), default=CampaignMode.PROGRESSIVE)
    status: Mapped[CampaignStatus] = mapped_column(_str_enum(CampaignStatus, "status"), default=CampaignStatus.PAUSED)
    dial_template: Mapped[str] = mapped_column(String(200))
    caller_id: Mapped[str] = mapped_column(String(32))
    pbx_name: Mapped[str] = mapped_column(String(60))
    ring_timeout_s: Mapped[float] = mapped_column(Double, default=25.0)
    max_dial_level: Mapped[float] = mapped_column(Double, default=3.0)
    abandon_cap: Mapped[float] = mapped_column(Double, default=0.03)
    # Answering-machine detection: customers are originated into ``cobra-amd`` first (SPEC §5)
    amd_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    window_override: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The negotiation script its calls run: the latest published version of this key (None: the default)
    script_key: Mapped[str | None] = mapped_column(String(80))
    # MixMonitor on every connected call (SPEC §3); off only where recording is not allowed
    record: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lead(Base):
    """A customer in a campaign's dialing list.

    The pick index ``ix_leads_hopper`` is (campaign_id, priority, next_attempt_at, id):
    "next due lead of campaign X ordered by priority, then next_attempt_at" reads it in
    order (lower ``priority`` first; the hopper keeps ``priority`` as the effective rank
    from segment weights and ``boost``). It is the only index over ``state`` or
    ``next_attempt_at``: every claim rewrites both, so each more index costs a write per
    claim (migration 0011 dropped two). ``claimed_by``/``claim_expires_at`` are the lease
    of a process that took the lead (SPEC §9 scale-out).
    """

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        # The hopper's index: one seek per priority level; done/stopped leads have no next_attempt_at.
        # It ends with id to match the pick's ORDER BY next_attempt_at, id (PostgreSQL orders ties by heap position)
        Index("ix_leads_hopper", "campaign_id", "priority", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    boost: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[LeadState] = mapped_column(_str_enum(LeadState, "state"), default=LeadState.NEW)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_result: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallAttempt(Base):
    """One outbound call, from originate to wrap-up (SPEC §3).

    ``id`` is also the AMI ActionID and the ``COBRA_CALL`` channel variable, and it appears
    in the recording's file name. ``originate_reason`` is OriginateResponse's ``Reason``;
    ``hangup_cause`` the customer channel's Q.850 ``Cause``. ``short_call`` is the Anatel
    ≤ 6 s completed call; ``caller_id`` is kept because short-call ratios are per caller id.
    """

    __tablename__ = "call_attempts"
    # (campaign, created) and (agent, created) are served by the QA keyset indexes (storage.models.qa),
    # which extend them with ``id``
    __table_args__ = (
        Index("ix_call_attempts_customer_created", "customer_id", "created_at"),
        Index("ix_call_attempts_phone_created", "phone_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_attempt_id)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mode: Mapped[CampaignMode] = mapped_column(_str_enum(CampaignMode, "mode"))
    number: Mapped[str] = mapped_column(String(20))
    caller_id: Mapped[str | None] = mapped_column(String(32))
    pbx_name: Mapped[str | None] = mapped_column(String(60))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # indexed with id: ix_call_attempts_created_id
    originated_at: Mapped[datetime | None] = mapped_column()
    ringing_at: Mapped[datetime | None] = mapped_column()  # the customer's phone started ringing (QA timeline)
    answered_at: Mapped[datetime | None] = mapped_column()
    connected_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    wrapup_ended_at: Mapped[datetime | None] = mapped_column()

    result: Mapped[CallResult | None] = mapped_column(_str_enum(CallResult, "result"))
    originate_reason: Mapped[int | None] = mapped_column(Integer)
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    # who ended a connected call: "agent" (Desligar), "customer", or "system" (the dialer hung it up)
    hangup_side: Mapped[str | None] = mapped_column(String(10))
    amd_status: Mapped[str | None] = mapped_column(String(20))
    amd_cause: Mapped[str | None] = mapped_column(String(80))
    customer_channel: Mapped[str | None] = mapped_column(String(120))
    customer_uniqueid: Mapped[str | None] = mapped_column(String(40), index=True)
    agent_channel: Mapped[str | None] = mapped_column(String(120))
    recording_path: Mapped[str | None] = mapped_column(String(500))
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    short_call: Mapped[bool] = mapped_column(Boolean, default=False)
    # the amount negotiated on the call: its agreement's total, else the promised amount of its outcome.
    # Derived, kept by storage.repositories.calls.refresh_call_amount whenever either is written, so the QA
    # records filter and export the amount from the call row alone (no join, no EXISTS per row).
    amount: Mapped[Decimal | None] = mapped_column()


class Outcome(Base):
    """The agent's disposition of a call (one per attempt).

    ``client_key`` is the idempotency key the agent's screen sends with ``dispose``: the
    same key twice from the same agent is one outcome (SPEC §6, §11). It is unique per
    agent, not globally: another agent sending the same key must not get this one's ack.
    """

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("agent_id", "client_key"),
        Index("ix_outcomes_agent_created", "agent_id", "created_at"),
        Index("ix_outcomes_code_created", "code", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    code: Mapped[OutcomeCode] = mapped_column(_str_enum(OutcomeCode, "code"))
    promise_amount: Mapped[Decimal | None] = mapped_column()
    promise_date: Mapped[date | None] = mapped_column(Date)
    callback_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    client_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Callback(Base):
    """A scheduled call back; ``owner_agent_id`` set means only that agent gets it."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_campaign_due", "campaign_id", "done_at", "due_at"),
        Index("ix_callbacks_customer_done", "customer_id", "done_at"),
        Index("ix_callbacks_owner_due", "owner_agent_id", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column()
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Segment(Base):
    """One filter of a campaign's ordered, weighted priority list (SPEC §4 "Priority").

    A lead belongs to the first segment (by ``position``) whose ``filters`` match; its rank
    is the segment's ``weight`` plus the lead's ``boost`` (higher first). ``filters`` is the
    validated mapping of ``dialer.leads.segments.SegmentFilter``.
    """

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    weight: Mapped[int] = mapped_column(Integer)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
