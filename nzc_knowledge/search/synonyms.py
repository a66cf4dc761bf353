"""Acronyms and synonyms of the climate-action domain, expanded into queries on both retrieval sides.

Why: curators write "photovoltaic" where officers type "PV", and Italian pages say "ZTL" where an English
query says "low-emission zone"; neither BM25 nor a small encoder bridges that on its own.
"""

from __future__ import annotations

import re

# key (lower case, matched as a whole word or phrase) -> phrases it also means
SYNONYMS: dict[str, tuple[str, ...]] = {
    "pv": ("photovoltaic", "solar panels"),
    "photovoltaic": ("pv", "solar"),
    "lez": ("low-emission zone",),
    "low-emission zone": ("lez", "clean air zone"),
    "zez": ("zero-emission zone",),
    "ztl": ("zona a traffico limitato", "low-emission zone"),
    "zbe": ("zona de bajas emisiones", "low-emission zone"),
    "zfe": ("zone à faibles émissions", "low-emission zone"),
    "nbs": ("nature-based solutions",),
    "nature-based solutions": ("nbs", "green infrastructure"),
    "ccc": ("climate city contract",),
    "climate city contract": ("ccc",),
    "dh": ("district heating",),
    "district heating": ("heat network",),
    "heat network": ("district heating",),
    "ev": ("electric vehicle",),
    "evs": ("electric vehicles",),
    "epc": ("energy performance contract", "energy performance certificate"),
    "esco": ("energy service company", "energy performance contract"),
    "sump": ("sustainable urban mobility plan",),
    "secap": ("sustainable energy and climate action plan",),
    "seap": ("sustainable energy action plan",),
    "ghg": ("greenhouse gas",),
    "res": ("renewable energy sources",),
    "rec": ("renewable energy community",),
    "cer": ("comunità energetica rinnovabile", "renewable energy community"),
    "energy community": ("energy cooperative", "renewable energy community"),
    "ccs": ("carbon capture and storage",),
    "ccus": ("carbon capture utilisation and storage",),
    "beccs": ("bioenergy with carbon capture and storage",),
    "hp": ("heat pump",),
    "ppa": ("power purchase agreement",),
    "gpp": ("green public procurement",),
    "eib": ("european investment bank",),
    "erdf": ("european regional development fund",),
    "rrf": ("recovery and resilience facility",),
    "chp": ("combined heat and power",),
    "suds": ("sustainable drainage",),
    "mrv": ("monitoring reporting and verification",),
    "retrofit": ("renovation",),
    "renovation": ("retrofit",),
    "payt": ("pay-as-you-throw", "waste charging by weight"),
    "pay-as-you-throw": ("payt",),
    "bike": ("bicycle", "cycling"),
    "cycling": ("bicycle", "bike"),
}
_MAX_WORDS = max(len(key.split()) for key in SYNONYMS)
_WORD = re.compile(r"[\w-]+", re.UNICODE)


def expansions(query: str) -> list[str]:
    """Phrases that the query's words and phrases also mean, in order, without repeats."""
    words = [word.lower() for word in _WORD.findall(query)]
    found: list[str] = []
    for size in range(_MAX_WORDS, 0, -1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            for synonym in SYNONYMS.get(phrase, ()):
                if synonym not in found and synonym not in query.lower():
                    found.append(synonym)
    return found
