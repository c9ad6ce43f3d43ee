from django.core.management.base import BaseCommand, CommandError

from portal.invariants import invariant_violations


class Command(BaseCommand):
    help = "Check every invariant of the design over every row; exit 1 if any is broken."

    def handle(self, *args, **options):
        violations = invariant_violations()
        width = max(len(name) for name in violations)
        for name, count in violations.items():
            status = "ok" if count == 0 else f"{count} rows"
            self.stdout.write(f"{name.ljust(width)}  {status}")
        broken = {name: count for name, count in violations.items() if count}
        if broken:
            raise CommandError(f"{len(broken)} invariant(s) broken: {', '.join(broken)}")
        self.stdout.write(self.style.SUCCESS("All invariants hold."))
