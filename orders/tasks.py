"""Thin Celery wrappers for orders: document rendering after issue, when asked for and
from the backlog, and statements and line sheets when first asked for."""

import datetime as dt

from celery import shared_task
from django.db import DatabaseError

from orders import documents, line_sheets

# A render is idempotent (acks_late): storage and the database are retried with backoff.
RENDER_TASK_OPTIONS = {
    "autoretry_for": (DatabaseError, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
    "acks_late": True,
    "soft_time_limit": 120,
    "time_limit": 180,
}


@shared_task(**RENDER_TASK_OPTIONS)
def document_render_task(kind: str, document_id: int) -> str:
    """Render and store an issued document's PDF once. Safe to run twice: a stored PDF
    is kept and the second run returns without writing."""
    try:
        return documents.document_render(kind=kind, pk=document_id)
    except documents.DocumentAlreadyRendered:
        return ""


@shared_task(**RENDER_TASK_OPTIONS)
def statement_render_task(account_id: int, as_of: str, fingerprint: str) -> str:
    """Render and store a statement whose download was asked for. Safe to run twice, and
    does nothing when the figures changed since (see documents.statement_render)."""
    return documents.statement_render(
        account_id=account_id, as_of=dt.date.fromisoformat(as_of), fingerprint=fingerprint
    )


@shared_task(**{**RENDER_TASK_OPTIONS, "soft_time_limit": 300, "time_limit": 330})
def line_sheet_render_task(
    account_id: int, category: str, season: str = "", file_format: str = "pdf"
) -> str:
    """Render and store a line sheet (PDF or XLSX) whose download was asked for. Safe to
    run twice: a fresh sheet stored already is kept (see line_sheets.line_sheet_render). A whole
    catalogue's sheet takes a minute or more: its own time limits."""
    return line_sheets.line_sheet_render(
        account_id=account_id, category=category, season=season, file_format=file_format
    )


@shared_task(
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
    soft_time_limit=540,
    time_limit=600,
)
def documents_render_pending_task() -> int:
    """Queue the renders of issued documents without a PDF (the after-commit task was
    lost, or they were loaded without one) on the backlog queue, one task each."""
    return documents.documents_backlog_queue()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3, acks_late=True)
def statements_expire_task() -> int:
    """Delete stored statements past their keep (documents.STATEMENT_KEEP)."""
    return documents.statements_expire()


@shared_task(
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    soft_time_limit=120,
    time_limit=180,
)
def stock_alerts_notify_task(sku_ids: list[int] | None = None, after_id: int = 0) -> int:
    """Tell the waiting back-in-stock alerts whose SKU has ATS again (these SKUs after a
    receipt or count, or every alert from beat), a batch at a time. Idempotent: a told
    alert has ended and its message is keyed."""
    from orders.services.stock_alerts import stock_alerts_notify

    result = stock_alerts_notify(sku_ids=sku_ids, after_id=after_id)
    if result.more:
        stock_alerts_notify_task.apply_async(
            kwargs={"sku_ids": sku_ids, "after_id": result.last_id}
        )
    return result.told
