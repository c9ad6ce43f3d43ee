#!/usr/bin/env python
"""django-oscar's order placement, run beside the portal by `make bench` (bench/oscar/.venv)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
