"""How disorderly a season is: the factories' slips, receipts, cancellations, counts,
demand and the stores' habits. Every draw comes from these figures and the seed."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    on_time_share: float  # runs that arrive on or before their ETA
    early_share: float  # of those, the share that arrive days early
    slip_days: tuple[int, int]  # a late run's slip, days (the factory's scale applies)
    announced_share: float  # late runs whose factory warns before the ETA passes
    partial_share: float  # runs received in two parts, days apart
    cancel_share: float  # runs the factory cancels before they ship
    shortage_share: float  # SKUs a weekly cycle count finds short
    breakout_factor: float  # demand multiplier of the styles that break out mid-season
    decide_now: float  # stores that answer a decision request the same day
    decide_late: float  # ... a few days later (the rest never answer)


SCENARIOS = {
    "calm": Scenario(
        name="calm",
        on_time_share=0.8,
        early_share=0.3,
        slip_days=(2, 8),
        announced_share=0.9,
        partial_share=0.1,
        cancel_share=0.0,
        shortage_share=0.005,
        breakout_factor=1.5,
        decide_now=0.7,
        decide_late=0.2,
    ),
    "turbulent": Scenario(
        name="turbulent",
        on_time_share=0.5,
        early_share=0.2,
        slip_days=(3, 21),
        announced_share=0.7,
        partial_share=0.3,
        cancel_share=0.04,
        shortage_share=0.02,
        breakout_factor=2.5,
        decide_now=0.5,
        decide_late=0.3,
    ),
    "chaotic": Scenario(
        name="chaotic",
        on_time_share=0.25,
        early_share=0.3,
        slip_days=(5, 35),
        announced_share=0.5,
        partial_share=0.5,
        cancel_share=0.1,
        shortage_share=0.05,
        breakout_factor=4.0,
        decide_now=0.3,
        decide_late=0.3,
    ),
}

# Factory name, and how its slips scale against the scenario's.
FACTORIES = (
    ("Porto Calcados", 0.4),
    ("Leon Footwear", 0.8),
    ("Dong Nai Shoes", 1.2),
    ("Agra Leather Works", 1.7),
)
