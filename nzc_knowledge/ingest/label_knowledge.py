"""What the tagger knows about each label, taken from the field's own vocabularies rather than from sample texts.

Sources, per family:
- domains: the IPCC 2006 emission categories (`climate_categories.IPCC2006`, the categorisation national GHG
  inventories and the CRF tables use) mapped to our domain keys, the thesaurus' technical terms per concept
  (`nzc_knowledge.thesaurus`, every language), and the taxonomy's label, description and synonyms;
- barriers and levers: the taxonomy's label, description and synonyms (cue phrases in each language), plus the
  thesaurus concepts that are levers rather than domains (climate finance, climate planning, citizen participation),
  and for barriers short statements of the obstacle as reports state it (`BARRIER_STATEMENTS`).

Text that is about climate action in general (a climate strategy, a city contract, an emissions inventory across
sectors) has knowledge of its own: `CROSS_CUTTING_PHRASES`, the thesaurus concepts without a domain plus a few
phrases of that kind. The tagger compares a passage with these too, so that "general climate strategy" is scored
as what it is instead of as the nearest domain.

Example:
    phrases = label_phrases("domains", "mobility", "de")  # IPCC transport categories, thesaurus, taxonomy
"""

from __future__ import annotations

from functools import lru_cache

from nzc_knowledge.taxonomy import FAMILIES, Label
from nzc_knowledge.thesaurus import CONCEPTS

# IPCC 2006 category codes whose subtree describes each domain. Left out on purpose: agriculture (3.A, 3.C; not a
# city domain), 1.B fugitive emissions from fuel extraction, 2.D-2.H product uses (2.E lists "Photovoltaics" as
# an electronics product, which would pull solar power into industry) and 1.A.2.k construction (our "buildings").
IPCC_DOMAIN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "energy": ("1.A.1",),  # energy industries: electricity, CHP and heat plants
    "buildings": ("1.A.4.a", "1.A.4.b"),  # commercial/institutional and residential combustion
    "mobility": ("1.A.3",),  # transport
    "waste_circular": ("4",),  # waste
    "nature_based": ("3.B.1", "3.B.4"),  # forest land and wetlands
    "industry": ("1.A.2", "2.A", "2.B", "2.C", "1.C"),  # manufacturing, mineral/chemical/metal processes, CO2 storage
}
IPCC_EXCLUDED = ("1.A.2.k",)
_VAGUE_TITLES = ("other", "non-specified", "uncategorised", "by-product emissions", "fugitive emissions", "stationary",
                 "mobile")

# Thesaurus concepts without a domain that name a lever of change.
LEVER_CONCEPTS = {"climate_finance": "finance", "climate_planning": "governance", "citizen_participation": "participation"}

CROSS_CUTTING_PHRASES: tuple[str, ...] = (
    "climate change strategy", "climate neutrality target for the whole city", "climate action across all sectors",
    "national climate change policy", "greenhouse gas emissions of all sectors", "climate change mitigation and adaptation",
    "sustainable development goals", "climate city contract", "climate governance and coordination",
    "reporting progress towards climate targets", "contact details of the climate office",
)


# How a barrier is stated when a text reports it: the obstacle as it happened, not the topic's name. Written from the
# barrier categories of city climate reporting (Covenant of Mayors SECAP and NetZeroCities Climate City Contract
# templates: financial, legal/regulatory, capacity, governance, data, social, technical, procurement). The label
# names alone ("permit", "tender") sit close to any text on the topic; these sit close to a text about the obstacle.
# English only: the multilingual encoder places them near the same statement in any language.
BARRIER_STATEMENTS: dict[str, tuple[str, ...]] = {
    "finance": ("the project could not be financed", "the costs were too high for the municipal budget",
                "subsidies covered only part of the investment", "owners could not pay their share of the costs",
                "the business case did not add up because of long payback times",
                "there is not enough money in the city budget for the investment",
                "high upfront investment costs put owners off", "the project is not bankable without public grants",
                "borrowing limits stop the municipality from taking on new debt",
                "costs rose far above the original estimate", "funding ran out when the grant programme ended",
                "low-income households cannot afford the upgrade",
                "the landlord pays for the measure while the tenant saves on the bills",
                "private investors judged the financial risk too high", "co-financing requirements were hard to meet"),
    "regulation": ("a court annulled the decision", "national law does not allow the city to do this",
                   "obtaining the permits took years", "the rules changed several times and stopped the works",
                   "legal challenges delayed the scheme",
                   "the city has no legal power to impose the measure", "heritage protection rules restrict changes to historic buildings",
                   "state aid rules limit how much public support can be given", "it is legally unclear what is allowed",
                   "the law had to be changed before the measure could start",
                   "zoning and planning rules do not allow the installation",
                   "the environmental impact assessment delayed the project",
                   "the regulatory framework is missing or out of date", "appeals against the permit stopped the works"),
    "capacity": ("the city lacked staff with the necessary skills", "too few qualified installers and craftsmen are available",
                 "the small team was overstretched", "expertise had to be bought in from consultants",
                 "volunteers and officers lacked time and know-how",
                 "the administration has no experience with this kind of project",
                 "officers lack the technical knowledge to prepare the project",
                 "high staff turnover means that knowledge is lost",
                 "small municipalities depend on external consultants",
                 "there are not enough people to prepare funding applications and tenders",
                 "local firms lacked the skills to meet the demand", "the project manager post remained vacant"),
    "governance": ("responsibilities are split between several authorities", "each department followed its own timeline and budget",
                   "coordination between levels of government slowed decisions", "nobody was clearly in charge",
                   "conflicting goals of different public bodies",
                   "departments work in silos", "a new political majority after the elections stopped the programme",
                   "political support was weak and kept changing", "the utility and the city pursued different interests",
                   "decisions needed approval from the region and the national government",
                   "short political cycles clash with long-term investments",
                   "the roles and mandates of the partners were unclear",
                   "the municipality does not control the network or the land it needs"),
    "data": ("reliable data were not available", "the data were held by third parties and hard to obtain",
             "consumption data were missing or in different formats", "progress could not be measured",
             "the figures were estimates and could not be verified",
             "there is no baseline inventory of emissions", "energy use is not known building by building",
             "the utilities do not share their metering data", "privacy rules restrict access to the data",
             "there are no indicators to monitor the impact of the measures",
             "monitoring and reporting of progress is weak", "data from different sources cannot be compared"),
    "acceptance": ("residents and shopkeepers opposed the plan", "protests and petitions against the measure",
                   "people did not trust the project", "the debate became polarised", "owners were reluctant to take part",
                   "neighbours objected to the noise and the view", "local businesses feared losing customers",
                   "people did not want to change their habits", "few residents signed up for the scheme",
                   "a campaign against the project spread misinformation",
                   "residents were sceptical about the new technology", "opposition from residents near the site"),
    "technology": ("the technology did not perform as designed", "the grid had no capacity for new connections",
                   "technical problems delayed operation", "the equipment was not available on the market in time",
                   "the geological risk of drilling was high",
                   "the technology is not yet mature", "there are only a few suppliers on the market",
                   "grid congestion prevents new connections", "supply chain delays held up the delivery of equipment",
                   "the existing infrastructure is not compatible with the new system",
                   "breakdowns and faults reduced availability", "missing standards prevent systems from working together",
                   "the solution does not work well under local conditions"),
    "procurement": ("the tender attracted no bidders", "procurement rules favoured the lowest price",
                    "public procurement law made it hard to buy innovative solutions", "the contract award was challenged",
                    "the tender procedure took far longer than planned",
                    "only one bid was received", "complex tender documents put small firms off",
                    "it was hard to write award criteria for a sustainable product",
                    "existing framework contracts locked the city into old solutions",
                    "a bidder appealed against the award decision"),
}

# Lever statements written the same way (what was done, by which means) were measured too and left out: on the tune
# half they lowered lever micro-F1 (grouped CV 0.555 -> 0.538); the levers keep their taxonomy and thesaurus phrases.
LABEL_STATEMENTS: dict[str, dict[str, tuple[str, ...]]] = {"barriers": BARRIER_STATEMENTS}

# Word stems that say "something stood in the way", in the corpus' languages (en, de, it, fr, es, pl, nl): the
# general vocabulary of obstacles, not of any one barrier. Whether a passage discusses an obstacle at all is the
# barriers' hardest decision (a third of labelled passages have a barrier); counting these words is evidence for it
# that the label phrases, each about one barrier, do not give. Matched at a word start, case-insensitively.
OBSTACLE_CUE_STEMS: tuple[str, ...] = (
    "obstacle", "barrier", "challenge", "problem", "difficult", "delay", "lack", "insufficient", "shortage", "could not",
    "did not", "unable", "risk",
    "hindernis", "hürde", "schwierig", "verzöger", "mangel", "fehlend", "herausforderung",
    "ostacol", "difficolt", "ritard", "mancanz", "carenz", "sfid",
    "frein", "retard", "manque", "pénurie", "défi",
    "obstáculo", "barrera", "dificultad", "retraso", "falta", "escasez", "reto", "desafío",
    "przeszkod", "barier", "trudnoś", "opóźnien", "brak", "niedob", "wyzwan",
    "belemmering", "obstakel", "probleem", "moeilijk", "vertraging", "gebrek", "tekort", "uitdaging",
)

# What passages that discuss any barrier, or describe any lever, have in common: the family's context. A label
# of the family is likelier where the passage is about obstacles (barriers) or about what was done (levers).
FAMILY_CONTEXT_PHRASES: dict[str, tuple[str, ...]] = {
    "barriers": ("the main obstacle was", "barriers and challenges the city faced", "what went wrong and why",
                 "risks and problems that delayed the project", "the difficulty was", "obstacles met",
                 "a recurring brake on the programme", "the project stalled because"),
    "levers": ("how the obstacles were overcome", "what the city did", "measures taken by the municipality",
               "the city responded by", "what worked", "how the programme is financed and organised",
               "the approach the city chose", "recommendations for other cities"),
}


def ipcc_phrases(domain: str) -> tuple[str, ...]:
    """Titles and first sentences of the IPCC 2006 categories mapped to `domain`."""
    return _ipcc_phrases().get(domain, ())


@lru_cache(maxsize=1)
def _ipcc_phrases() -> dict[str, tuple[str, ...]]:
    import climate_categories  # imported here: loading the categorisations takes a moment

    ipcc = climate_categories.IPCC2006
    phrases: dict[str, tuple[str, ...]] = {}
    for domain, roots in IPCC_DOMAIN_CATEGORIES.items():
        found: list[str] = []
        for root in roots:
            top = ipcc[root]
            for category in [top, *sorted(top.descendants, key=lambda item: item.codes[0])]:
                if any(category.codes[0] == code or category.codes[0].startswith(code + ".") for code in IPCC_EXCLUDED):
                    continue
                title = category.title.strip()
                if title.lower().startswith(_VAGUE_TITLES):
                    continue
                # a one-word title ("Cars", "Railways") is clear; a vague child reads better with its root's title
                found.append(title if category is top or len(title.split()) > 1 else f"{title} ({top.title})")
                first_sentence = (category.comment or "").split(". ")[0].split(";")[0].strip().rstrip(".")
                if len(first_sentence.split()) >= 4 and "ISIC" not in first_sentence:
                    found.append(first_sentence)
        phrases[domain] = tuple(dict.fromkeys(found))
    return phrases


def _taxonomy_phrases(label: Label, language: str) -> list[str]:
    phrases = [f"{label.label}. {label.description}", label.label]
    phrases += label.synonyms.get(language, ())
    if language != "en":
        phrases += label.synonyms.get("en", ())
    return phrases


def _thesaurus_phrases(family: str, key: str, language: str) -> list[str]:
    phrases: list[str] = []
    for concept in CONCEPTS:
        belongs = (family == "domains" and concept.domain == key) or (
            family == "levers" and LEVER_CONCEPTS.get(concept.key) == key
        )
        if belongs:
            phrases += concept.terms.get(language, ())
            if language != "en":
                phrases += concept.terms.get("en", ())
    # acronyms ("PV", "EV", "DH") match too much as phrases and mean little to an encoder
    return [phrase for phrase in phrases if not (phrase.isupper() and len(phrase) <= 5)]


def label_phrases(family: str, key: str, language: str = "en") -> tuple[str, ...]:
    """Every phrase that names or describes one label, in `language` (plus English, which city texts mix in)."""
    label = next(item for item in FAMILIES[family] if item.key == key)
    phrases = _taxonomy_phrases(label, language) + _thesaurus_phrases(family, key, language)
    phrases += LABEL_STATEMENTS.get(family, {}).get(key, ())
    if family == "domains":
        phrases += ipcc_phrases(key)
    return tuple(dict.fromkeys(phrase for phrase in phrases if phrase.strip()))


def cross_cutting_phrases(language: str = "en") -> tuple[str, ...]:
    """Phrases of climate action that is not about one domain (thesaurus concepts without a domain, and ours)."""
    phrases = list(CROSS_CUTTING_PHRASES)
    for concept in CONCEPTS:
        if concept.domain is None:
            phrases += concept.terms.get("en", ())
            if language != "en":
                phrases += concept.terms.get(language, ())
    return tuple(dict.fromkeys(phrase for phrase in phrases if not (phrase.isupper() and len(phrase) <= 5)))


def one_line_description(label: Label) -> str:
    """The one line per label the ten-line baseline compares passages with."""
    return f"{label.label}: {label.description}"
