"""Obstacles said the way city reports say them, shared by the unit and integration tagging tests."""

PROCUREMENT_DE = (
    "Das strenge Vergaberecht verzögerte die Ausschreibung der Wärmepumpen um ein Jahr: im ersten Vergabeverfahren "
    "gingen keine Angebote ein, weil die Vergabevorschriften nur den niedrigsten Preis zuließen."
)
ACCEPTANCE_PL = (
    "Strefa czystego transportu wywołała sprzeciw mieszkańców i protesty kierowców; petycja przeciwko przepisom "
    "zebrała tysiące podpisów, a nieufność wobec danych urzędu tylko rosła."
)
