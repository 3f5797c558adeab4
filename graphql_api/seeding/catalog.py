"""Shared vocabulary for demo and synthetic data: names, member messages, asset mixes and the
lending rule. Kept in one place so both data sets read alike and obey the same business rules."""

from decimal import Decimal
from random import Random

from graphql_api.models.enums import LoanDecision, RiskProfile
from graphql_api.portfolios.allocation import RATIONALE_LEADS, RULES_V1_MIXES

SEED_ACTOR_DEMO = "seed:demo"
SEED_ACTOR_SYNTHETIC = "seed:synthetic"

RULES_VERSION = "rules-v1"
MANUAL_VERSION = "manual-underwriting"
APPROVAL_THRESHOLD = Decimal(80)

RULES_MODEL = "allocation-rules-v1"
ADVISOR_MODEL = "advisor-gpt-2026-10"

SENTIMENT_MODEL_VERSION = "vader-3.3.2"

FIRST_NAMES = (
    "Ada", "Bram", "Celia", "Dario", "Elin", "Farid", "Greta", "Hugo", "Ines", "Jonah",
    "Kaia", "Lionel", "Maren", "Nico", "Odette", "Pavel", "Quinn", "Rosa", "Soren", "Talia",
    "Umar", "Vera", "Wendell", "Ximena", "Yusuf", "Zora", "Amara", "Basil", "Clio", "Desmond",
    "Esme", "Felix", "Gianna", "Hollis", "Ilse", "Jasper", "Keiko", "Leander", "Mira", "Orla",
)  # fmt: skip

LAST_NAMES = (
    "Ashdown", "Brightwater", "Calloway", "Dunmore", "Eastbrook", "Fairweather", "Glenhaven",
    "Hartwell", "Ivesdale", "Juniper", "Kestrel", "Larkspur", "Merriweather", "Northcote",
    "Oakhurst", "Pembrook", "Quayle", "Ravensworth", "Silverton", "Thornbury", "Underhill",
    "Valecourt", "Whitlock", "Yarrow", "Ashgrove", "Bellamy", "Copperfield", "Dovecote",
    "Elmsworth", "Foxley", "Greystone", "Hawthorne", "Ironside", "Kingsley", "Lindqvist",
)  # fmt: skip

# Member messages with a reviewer's reading of them. The model's own verdict comes from VADER
# (see sentiment.py), so feedback can honestly mark where the two disagree.
MESSAGES: tuple[tuple[str, str], ...] = (
    ("I'm really happy with how my pension has grown this year, thank you!", "POSITIVE"),
    ("The new dashboard makes it easy to see my contributions. Great work.", "POSITIVE"),
    ("My loan was approved within a day, which was a pleasant surprise.", "POSITIVE"),
    ("Thanks for explaining the balanced portfolio so clearly on the call.", "POSITIVE"),
    ("Excellent service when I transferred my old workplace pension in.", "POSITIVE"),
    ("I appreciate the quick answer about early retirement options.", "POSITIVE"),
    ("Love that I can finally track my employer match every month.", "POSITIVE"),
    ("The recommendation looks sensible and I feel confident about it.", "POSITIVE"),
    ("Still waiting three weeks for my loan decision. This is frustrating.", "NEGATIVE"),
    ("My pension balance dropped again and nobody has explained why.", "NEGATIVE"),
    ("Terrible experience trying to update my beneficiary details.", "NEGATIVE"),
    ("Why was my loan application sent to review again? Very disappointing.", "NEGATIVE"),
    ("The fees on my account are far too high and hard to understand.", "NEGATIVE"),
    ("I was charged twice for the same contribution and I'm angry about it.", "NEGATIVE"),
    ("The app keeps logging me out, it's useless when I need my statement.", "NEGATIVE"),
    ("Great, another form to fill in just to see my own money.", "NEGATIVE"),
    ("Oh wonderful, the portfolio lost value right after I switched.", "NEGATIVE"),
    ("Please send me the annual statement for my pension account.", "NEUTRAL"),
    ("What documents do I need to apply for a personal loan?", "NEUTRAL"),
    ("I would like to change my risk profile to conservative.", "NEUTRAL"),
    ("Can you confirm the currency my pension is held in?", "NEUTRAL"),
    ("I moved house last month; my new postcode is on the attached form.", "NEUTRAL"),
    ("How is the contribution balance calculated each quarter?", "NEUTRAL"),
    ("I plan to retire in about five years and want to review my options.", "NEUTRAL"),
    ("Is it possible to pause contributions while I am on parental leave?", "NEUTRAL"),
    ("No complaints, the loan process was fine I guess.", "POSITIVE"),
    ("Not bad, but the portfolio report could be clearer.", "NEUTRAL"),
    ("I don't hate the new statement layout.", "POSITIVE"),
)

# The demo perturbs the live model's base mixes slightly, so both read alike.
ASSET_MIXES = RULES_V1_MIXES


def weight_text(basis_points: int) -> str:
    """10000 bps -> "1.0000"; built from integers so the sum stays exactly 1."""
    return f"{basis_points // 10000}.{basis_points % 10000:04d}"


def allocation(rng: Random, profile: RiskProfile) -> list[dict[str, str]]:
    """The profile's base mix with up to 5 points moved between two sleeves."""
    names = [name for name, _ in ASSET_MIXES[profile]]
    points = [bps for _, bps in ASSET_MIXES[profile]]
    give, take = rng.sample(range(len(points)), 2)
    shift = min(rng.randrange(0, 550, 50), points[give] - 100)  # every sleeve keeps >= 1%
    points[give] -= shift
    points[take] += shift
    return [
        {"assetClass": name, "weight": weight_text(bps)}
        for name, bps in zip(names, points, strict=True)
    ]


def rationale(profile: RiskProfile, mix: list[dict[str, str]]) -> str:
    top = max(mix, key=lambda item: Decimal(item["weight"]))
    percent = (Decimal(top["weight"]) * 100).normalize()
    sleeve = top["assetClass"].replace("_", " ").lower()
    return f"{RATIONALE_LEADS[profile]}; largest sleeve is {sleeve} at {percent:f}%."


def risk_score(income_cents: int, amount_cents: int, employment_years: int) -> Decimal:
    """The rules-v1 score, round(income / amount * 100 + employment_years * 5, 2), rounded half
    up like graphql_api.lending.scoring. Integer cents keep it exact and fast enough to score
    millions of synthetic loans: income / amount * 100 in hundredths is income * 10^4 / amount,
    and floor(x + 1/2) = floor((2 * income * 10^4 + amount) / (2 * amount))."""
    hundredths = (20_000 * income_cents + amount_cents) // (2 * amount_cents)
    return Decimal(hundredths + 500 * employment_years).scaleb(-2)


def rule_decision(score: Decimal) -> LoanDecision:
    return LoanDecision.APPROVED if score >= APPROVAL_THRESHOLD else LoanDecision.REVIEW


def cents(value: int) -> Decimal:
    """Integer cents to a 2-place Decimal, without ever passing through float."""
    return Decimal(value).scaleb(-2)
