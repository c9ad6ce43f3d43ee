"""The season simulator: drives the real services through a season on a simulated clock
and measures whether the promises made to stores held (manage.py simulate_season)."""
