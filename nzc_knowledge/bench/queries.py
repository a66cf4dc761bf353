"""The queries the search benchmarks time (kept light: the CLI imports it at start-up)."""

# The latency queries of every search benchmark (`nzc bench search`, `nzc bench scale`): keywords, a typo, questions,
# other languages, acronyms.
LATENCY_QUERIES = (
    "district heating financing", "energy community", "low-emission zone acceptance", "deep renovation of social housing",
    "citizen assembly", "urban heat island trees", "circular construction materials", "port shore power",
    "distict heeting", "how do cities finance heat pumps", "green public procurement", "emissions inventory data gaps",
    "bike lanes", "comunità energetiche finanziamento", "Wärmeplanung", "PV rooftops", "NBS", "EIB loan",
    "waste heat from industry", "free public transport",
)
