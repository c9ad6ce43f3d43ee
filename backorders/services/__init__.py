"""Write use cases of the backorder lifecycle: each public function is one transaction."""

from backorders.services.accounts import account_backorder_settings_set
from backorders.services.decisions import DecisionResult, backorder_decide
from backorders.services.eta import EtaChangeResult, RunCancelResult, eta_change, run_cancel
from backorders.services.overdue import OverdueCheckResult, overdue_runs_check
from backorders.services.promise_days import promise_day_record
from backorders.services.receipts import ReceiptResult, ReceiveRequest, run_receive
from backorders.services.reconcile import ReconcileReport, reconcile
from backorders.services.stock import (
    StockCountRequest,
    StockSyncResult,
    stock_holdback_write,
    stock_sync,
)
from backorders.services.sweep import (
    SweepResult,
    backorder_sweep,
    backorder_sweep_all,
    decision_expire,
)

__all__ = [
    "DecisionResult",
    "EtaChangeResult",
    "OverdueCheckResult",
    "ReceiptResult",
    "ReceiveRequest",
    "ReconcileReport",
    "RunCancelResult",
    "StockCountRequest",
    "StockSyncResult",
    "SweepResult",
    "account_backorder_settings_set",
    "backorder_decide",
    "backorder_sweep",
    "backorder_sweep_all",
    "decision_expire",
    "eta_change",
    "overdue_runs_check",
    "promise_day_record",
    "reconcile",
    "run_cancel",
    "run_receive",
    "stock_holdback_write",
    "stock_sync",
]
