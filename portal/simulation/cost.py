"""What a season costs the machine: SQL statements and CPU seconds per store-week, by
what the season was doing. `simulate_season --cost` prints them; they never go in the
report, whose figures do not depend on the machine."""

import time
from collections import Counter
from contextlib import contextmanager

from django.db import connection

OUTSIDE = "daily jobs"  # the overdue-run check, decision expiry and sweep, bookkeeping


class CostMeter:
    def __init__(self):
        self.statements = Counter()
        self.cpu = Counter()
        self.phase = OUTSIDE

    @contextmanager
    def counting(self):
        """Count every statement the block sends, under the phase it was sent in."""
        started = time.process_time()
        with connection.execute_wrapper(self._count):
            yield
        self.cpu[OUTSIDE] += time.process_time() - started - sum(self.cpu.values())

    @contextmanager
    def phase_of(self, name: str):
        started, self.phase = time.process_time(), name
        try:
            yield
        finally:
            self.phase = OUTSIDE
            self.cpu[name] += time.process_time() - started

    def _count(self, execute, sql, params, many, context):
        self.statements[self.phase] += 1
        return execute(sql, params, many, context)

    def lines(self, *, store_weeks: int) -> list[str]:
        total_cpu = sum(self.cpu.values())
        lines = [
            f"Per store-week: {sum(self.statements.values()) / store_weeks:.1f} SQL statements,"
            f" {total_cpu / store_weeks:.3f} s of CPU in this process"
        ]
        for phase, count in self.statements.most_common():
            lines.append(
                f"  {phase}: {count / store_weeks:.1f} statements,"
                f" {self.cpu[phase] / store_weeks:.4f} s"
            )
        return lines
