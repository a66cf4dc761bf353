"""The portal's fixed vocabulary: resource types, emission domains, barriers and levers of change.

One source of truth for keys (from CONTRACT.md, used exactly), labels, descriptions (embedded to
score how close a passage is to a label) and synonyms in the main EU languages (matched by the
rule-based tagger and used for lexical query expansion).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nzc_knowledge.errors import InvalidParameter

TAG_FAMILIES = ("domains", "barriers", "levers")
FAMILY_OF_FILTER = {"domain": "domains", "barrier": "barriers", "lever": "levers"}


@dataclass(frozen=True)
class Label:
    """One key of the vocabulary with what a person and the tagger need to recognise it."""

    key: str
    label: str
    description: str
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> phrases


RESOURCE_TYPES: tuple[Label, ...] = (
    Label("case_study", "Case study", "What a city did, the obstacles it met, results and lessons learned."),
    Label("factsheet", "Factsheet", "A compact sheet of key figures, measures and status."),
    Label("method_note", "Method note", "How to carry out a method step by step."),
    Label("guide", "Guide", "Practical guidance and checklists for city officers."),
    Label("financing_note", "Financing note", "How a measure is financed: instruments, amounts and risks."),
)

DOMAINS: tuple[Label, ...] = (
    Label(
        "energy",
        "Energy systems",
        "Energy systems: renewable electricity, solar photovoltaics, wind, district heating and cooling networks, "
        "heat pumps, energy communities, grids, storage and the phase-out of fossil fuels in power and heat supply.",
        {
            "en": ("renewable energy", "renewables", "solar", "photovoltaic", "solar panel", "wind turbine", "wind farm",
                   "district heating", "district cooling", "heat network", "heating network", "heat pump",
                   "energy community", "energy cooperative", "power grid", "electricity grid", "smart grid",
                   "battery storage", "geothermal", "biomass", "waste heat", "combined heat and power", "energy supply",
                   "coal phase-out", "lignite", "heat planning", "self-consumption", "energy transition"),
            "it": ("energia rinnovabile", "fonti rinnovabili", "fotovoltaico", "impianto fotovoltaico", "teleriscaldamento",
                   "comunità energetica", "comunità energetiche", "pompa di calore", "rete elettrica", "eolico",
                   "autoconsumo", "energia solare", "transizione energetica"),
            "de": ("erneuerbare energie", "photovoltaik", "solaranlage", "fernwärme", "wärmenetz", "wärmepumpe",
                   "energiegenossenschaft", "windkraft", "stromnetz", "wärmeplanung", "energiewende", "abwärme",
                   "kraft-wärme-kopplung", "geothermie"),
            "fr": ("énergie renouvelable", "énergies renouvelables", "photovoltaïque", "panneau solaire", "réseau de chaleur",
                   "pompe à chaleur", "communauté énergétique", "éolien", "réseau électrique", "géothermie",
                   "transition énergétique", "autoconsommation"),
            "es": ("energía renovable", "energías renovables", "fotovoltaica", "placa solar", "red de calor",
                   "calefacción urbana", "bomba de calor", "comunidad energética", "comunidades energéticas", "eólica",
                   "red eléctrica", "autoconsumo", "transición energética"),
            "pl": ("odnawialne źródła energii", "fotowoltaika", "ciepło systemowe", "sieć ciepłownicza", "pompa ciepła",
                   "społeczność energetyczna", "energetyka wiatrowa", "transformacja energetyczna", "ciepłownictwo"),
            "nl": ("hernieuwbare energie", "duurzame energie", "zonnepanelen", "zonne-energie", "warmtenet",
                   "stadsverwarming", "warmtepomp", "energiecoöperatie", "windmolen", "stroomnet", "energietransitie",
                   "aardgasvrij"),
        },
    ),
    Label(
        "buildings",
        "Built environment",
        "Buildings and the built environment: energy retrofit and renovation of homes, schools and public buildings, "
        "insulation, energy efficiency, building performance standards, nearly zero-energy and low-carbon construction.",
        {
            "en": ("retrofit", "renovation", "deep renovation", "insulation", "energy efficiency", "energy performance",
                   "building stock", "social housing", "public buildings", "nearly zero-energy", "energy performance certificate",
                   "building envelope", "timber construction", "housing association", "apartment block", "facade",
                   "heating system replacement", "one-stop shop"),
            "it": ("riqualificazione energetica", "ristrutturazione", "efficienza energetica", "isolamento", "edifici pubblici",
                   "edilizia residenziale", "superbonus", "cappotto termico", "patrimonio edilizio", "condominio"),
            "de": ("sanierung", "energetische sanierung", "gebäudesanierung", "dämmung", "energieeffizienz", "gebäudebestand",
                   "wohnungsbau", "altbau", "sanierungsquote", "gebäude"),
            "fr": ("rénovation énergétique", "rénovation", "isolation", "efficacité énergétique", "bâtiments publics",
                   "logement social", "passoire thermique", "parc immobilier", "copropriété", "bâtiment"),
            "es": ("rehabilitación energética", "rehabilitación", "aislamiento", "eficiencia energética", "edificios públicos",
                   "vivienda social", "parque edificado", "edificio"),
            "pl": ("termomodernizacja", "efektywność energetyczna", "budynki publiczne", "docieplenie", "budynki mieszkalne",
                   "budynek", "renowacja"),
            "nl": ("renovatie", "isolatie", "energiezuinig", "energie-efficiëntie", "woningvoorraad", "sociale huur",
                   "woningcorporatie", "gebouwen", "verduurzaming van woningen"),
        },
    ),
    Label(
        "mobility",
        "Mobility & transport",
        "Mobility and transport: public transport, buses and trams, cycling and walking, low-emission and zero-emission "
        "zones, electric vehicles and charging, car sharing, parking policy and urban logistics.",
        {
            "en": ("public transport", "bus fleet", "electric bus", "tram", "metro", "cycling", "bike lane", "cycle lane",
                   "bicycle", "bike sharing", "walking", "low-emission zone", "zero-emission zone", "electric vehicle",
                   "charging point", "charging station", "car sharing", "parking", "urban logistics", "cargo bike",
                   "traffic", "modal share", "sustainable urban mobility plan", "superblock", "last-mile delivery",
                   "mobility hub"),
            "it": ("trasporto pubblico", "mobilità sostenibile", "piste ciclabili", "pista ciclabile", "autobus elettrici",
                   "zona a traffico limitato", "mobilità", "bicicletta", "ricarica", "car sharing", "logistica urbana"),
            "de": ("öffentlicher nahverkehr", "nahverkehr", "radverkehr", "radweg", "fahrrad", "umweltzone", "elektrobus",
                   "ladeinfrastruktur", "verkehrswende", "carsharing", "parkraum", "lastenrad", "mobilität"),
            "fr": ("transports en commun", "transport public", "piste cyclable", "vélo", "zone à faibles émissions",
                   "bus électrique", "bornes de recharge", "covoiturage", "stationnement", "logistique urbaine", "mobilité"),
            "es": ("transporte público", "carril bici", "bicicleta", "zona de bajas emisiones", "autobús eléctrico",
                   "puntos de recarga", "aparcamiento", "movilidad", "supermanzana", "logística urbana"),
            "pl": ("transport publiczny", "komunikacja miejska", "ścieżka rowerowa", "rower", "strefa czystego transportu",
                   "autobus elektryczny", "mobilność", "parkowanie"),
            "nl": ("openbaar vervoer", "fietspad", "fiets", "fietsen", "milieuzone", "zero-emissiezone", "elektrische bus",
                   "laadpaal", "deelauto", "parkeren", "mobiliteit", "stadslogistiek"),
        },
    ),
    Label(
        "waste_circular",
        "Waste & circular economy",
        "Waste and the circular economy: waste prevention, separate collection, recycling, composting of bio-waste, "
        "reuse and repair, circular construction materials, food waste and landfill diversion.",
        {
            "en": ("circular economy", "recycling", "waste collection", "separate collection", "bio-waste", "biowaste",
                   "composting", "landfill", "reuse", "repair café", "waste prevention", "food waste", "zero waste",
                   "circular construction", "material passport", "incineration", "pay-as-you-throw", "deposit return"),
            "it": ("economia circolare", "raccolta differenziata", "riciclo", "rifiuti", "compostaggio", "riuso",
                   "discarica", "spreco alimentare", "tariffa puntuale"),
            "de": ("kreislaufwirtschaft", "recycling", "abfall", "mülltrennung", "bioabfall", "kompostierung",
                   "wiederverwendung", "reparatur", "abfallvermeidung"),
            "fr": ("économie circulaire", "recyclage", "déchets", "tri sélectif", "biodéchets", "compostage", "réemploi",
                   "gaspillage alimentaire", "enfouissement"),
            "es": ("economía circular", "reciclaje", "residuos", "recogida selectiva", "biorresiduos", "compostaje",
                   "reutilización", "vertedero", "desperdicio alimentario"),
            "pl": ("gospodarka o obiegu zamkniętym", "recykling", "odpady", "selektywna zbiórka", "bioodpady",
                   "kompostowanie", "ponowne użycie"),
            "nl": ("circulaire economie", "recycling", "afval", "afvalscheiding", "gft", "compost", "hergebruik",
                   "repair café", "circulair bouwen"),
        },
    ),
    Label(
        "nature_based",
        "Nature-based solutions & green infrastructure",
        "Nature-based solutions and green infrastructure: urban trees and forests, parks, green roofs and walls, "
        "sustainable urban drainage and rain gardens, wetlands, biodiversity, urban heat islands and carbon sinks.",
        {
            "en": ("nature-based solution", "nature-based solutions", "green infrastructure", "urban forest", "tree planting",
                   "street trees", "green roof", "green roofs", "green wall", "park", "rain garden", "sustainable drainage",
                   "stormwater", "wetland", "biodiversity", "urban heat island", "carbon sink", "depaving", "urban greening",
                   "sponge city", "canopy cover", "blue-green infrastructure"),
            "it": ("soluzioni basate sulla natura", "infrastruttura verde", "forestazione urbana", "alberi", "tetti verdi",
                   "verde urbano", "biodiversità", "isola di calore", "parco", "drenaggio urbano sostenibile"),
            "de": ("naturbasierte lösungen", "grüne infrastruktur", "stadtbäume", "dachbegrünung", "gründach",
                   "stadtgrün", "biodiversität", "hitzeinsel", "schwammstadt", "entsiegelung", "park"),
            "fr": ("solutions fondées sur la nature", "infrastructure verte", "arbres", "toitures végétalisées", "végétalisation",
                   "biodiversité", "îlot de chaleur", "désimperméabilisation", "parc", "forêt urbaine"),
            "es": ("soluciones basadas en la naturaleza", "infraestructura verde", "arbolado", "cubiertas verdes",
                   "biodiversidad", "isla de calor", "parque", "anillo verde", "corredor verde"),
            "pl": ("rozwiązania oparte na przyrodzie", "zielona infrastruktura", "drzewa", "zielone dachy",
                   "bioróżnorodność", "wyspa ciepła", "park", "retencja"),
            "nl": ("natuurinclusief", "groene infrastructuur", "bomen", "groene daken", "groen dak", "vergroening",
                   "biodiversiteit", "hittestress", "park", "tegels eruit", "klimaatadaptatie"),
        },
    ),
    Label(
        "industry",
        "Industry, ports & carbon capture",
        "Industry and ports: industrial emissions and process heat, industrial symbiosis and industrial parks, port "
        "electrification and shore power, green hydrogen, carbon capture and storage, manufacturing decarbonisation.",
        {
            "en": ("industry", "industrial", "industrial symbiosis", "industrial park", "port", "harbour", "shore power",
                   "onshore power", "green hydrogen", "hydrogen", "electrolyser", "carbon capture", "ccs", "ccus",
                   "process heat", "manufacturing", "steel", "cement", "refinery", "chemical plant"),
            "it": ("industria", "industriale", "simbiosi industriale", "porto", "idrogeno verde", "cattura del carbonio",
                   "calore di processo", "distretto industriale"),
            "de": ("industrie", "industriell", "industriesymbiose", "hafen", "landstrom", "grüner wasserstoff",
                   "wasserstoff", "co2-abscheidung", "prozesswärme", "industriepark"),
            "fr": ("industrie", "industriel", "symbiose industrielle", "port", "branchement à quai", "hydrogène vert",
                   "captage du carbone", "chaleur fatale", "zone industrielle"),
            "es": ("industria", "industrial", "simbiosis industrial", "puerto", "conexión eléctrica a buques",
                   "hidrógeno verde", "captura de carbono", "polígono industrial"),
            "pl": ("przemysł", "przemysłowy", "symbioza przemysłowa", "port", "zielony wodór", "wychwytywanie dwutlenku węgla"),
            "nl": ("industrie", "industrieel", "industriële symbiose", "haven", "walstroom", "groene waterstof",
                   "waterstof", "co2-afvang", "bedrijventerrein"),
        },
    ),
)

BARRIERS: tuple[Label, ...] = (
    Label(
        "finance",
        "Finance",
        "Financial barriers: lack of funding or capital, high upfront investment costs, limited municipal budgets, "
        "debt limits, unbankable projects, long payback periods and difficulty attracting private investment.",
        {
            "en": ("lack of funding", "funding gap", "financing gap", "upfront cost", "upfront costs", "investment cost",
                   "budget constraints", "limited budget", "tight budget", "debt ceiling", "borrowing limit", "payback period",
                   "unbankable", "not bankable", "cost overrun", "affordability", "too expensive", "capital cost",
                   "access to finance", "co-financing", "financial risk",
                   "insufficient funding", "lack of financial resources", "high investment costs", "high upfront investment", "funding shortfall", "budget cuts", "cannot afford", "out-of-pocket costs", "split incentive", "split incentives", "landlord-tenant dilemma", "fiscal constraints", "limited borrowing capacity", "uncertain funding", "subsidy cut", "rising costs", "cost increases", "financial viability", "high cost", "costly"),
            "it": ("mancanza di fondi", "costi iniziali", "vincoli di bilancio", "carenza di risorse finanziarie",
                   "investimento iniziale", "accesso al credito",
                   "costi elevati", "risorse limitate", "mancanza di risorse", "difficoltà di finanziamento", "aumento dei costi", "sostenibilità finanziaria", "capacità di indebitamento", "morosità", "scarsità di fondi"),
            "de": ("finanzierungslücke", "fehlende finanzierung", "investitionskosten", "haushaltsmittel", "haushaltslage",
                   "hohe kosten", "kreditrahmen",
                   "finanzierungsprobleme", "fehlende mittel", "knappe haushaltsmittel", "haushaltssperre", "mehrkosten", "kostensteigerung", "investitionsstau", "eigenanteil", "wirtschaftlichkeit", "zu teuer", "förderlücke", "mieter-vermieter-dilemma"),
            "fr": ("manque de financement", "coût initial", "contraintes budgétaires", "surcoût", "coût d'investissement",
                   "capacité d'endettement",
                   "reste à charge", "coût élevé", "coûts élevés", "manque de moyens", "difficultés de financement", "rentabilité", "endettement", "hausse des coûts", "capacité d'investissement", "trop cher"),
            "es": ("falta de financiación", "coste inicial", "restricciones presupuestarias", "sobrecoste",
                   "inversión inicial", "coste de inversión",
                   "falta de recursos", "costes elevados", "coste elevado", "dificultades de financiación", "aumento de costes", "rentabilidad", "endeudamiento", "escasez de fondos"),
            "pl": ("brak finansowania", "koszty inwestycyjne", "ograniczony budżet", "wysokie koszty", "luka finansowa",
                   "brak środków", "wysokie koszty inwestycji", "niewystarczające finansowanie", "ograniczenia budżetowe", "wzrost kosztów", "opłacalność", "zadłużenie"),
            "nl": ("financieringstekort", "gebrek aan financiering", "investeringskosten", "beperkt budget",
                   "hoge kosten", "terugverdientijd",
                   "financieringsprobleem", "onvoldoende budget", "hoge investeringen", "kostenstijging", "onrendabele top", "betaalbaarheid", "eigen bijdrage"),
        },
    ),
    Label(
        "regulation",
        "Regulation",
        "Regulatory and legal barriers: restrictive or missing national law, permitting delays, planning rules, "
        "heritage protection, state aid rules, grid connection rules and legal uncertainty that block local action.",
        {
            "en": ("regulation", "regulatory", "legislation", "legal framework", "permit", "permitting", "planning permission",
                   "building code", "heritage protection", "state aid", "legal uncertainty", "national law", "bylaw",
                   "zoning", "legal barrier", "approval process", "licensing",
                   "legal obstacle", "regulatory barrier", "court ruling", "annulled", "legal challenge", "lawsuit", "judicial review", "regulatory uncertainty", "changing rules", "rule change", "lengthy permitting", "permit delays", "environmental impact assessment", "planning law", "not allowed", "prohibited", "legal basis"),
            "it": ("normativa", "quadro normativo", "autorizzazioni", "permessi", "vincoli paesaggistici", "burocrazia",
                   "iter autorizzativo", "aiuti di stato",
                   "instabilità normativa", "modifiche normative", "ricorso al tar", "sentenza", "vincoli normativi", "tempi autorizzativi", "valutazione di impatto ambientale", "soprintendenza"),
            "de": ("genehmigung", "genehmigungsverfahren", "rechtsrahmen", "gesetzgebung", "denkmalschutz", "bauordnung",
                   "rechtsunsicherheit", "vorschriften",
                   "rechtsgrundlage", "planungsrecht", "planfeststellungsverfahren", "klage", "gericht", "bundesrecht", "landesrecht", "gesetzliche vorgaben", "rechtliche hürden", "genehmigungsdauer", "umweltverträglichkeitsprüfung", "nicht zulässig"),
            "fr": ("réglementation", "cadre juridique", "permis de construire", "autorisation", "patrimoine protégé",
                   "insécurité juridique", "législation",
                   "recours", "contentieux", "tribunal administratif", "annulation", "code de l'urbanisme", "délais d'instruction", "contraintes réglementaires", "évolution réglementaire", "étude d'impact"),
            "es": ("normativa", "marco legal", "licencias", "permisos", "tramitación", "inseguridad jurídica",
                   "legislación", "patrimonio protegido",
                   "sentencia", "tribunal", "recurso", "anulación", "cambios normativos", "trabas administrativas", "plazos de tramitación", "evaluación de impacto ambiental", "marco normativo"),
            "pl": ("przepisy", "regulacje", "pozwolenie", "ramy prawne", "ochrona zabytków", "procedury administracyjne",
                   "zmiany przepisów", "niejasne przepisy", "wyrok sądu", "skarga", "ustawa", "pozwolenie na budowę", "decyzja środowiskowa", "bariery prawne"),
            "nl": ("regelgeving", "vergunning", "wetgeving", "juridisch kader", "bestemmingsplan", "monumentenzorg",
                   "omgevingsvergunning",
                   "juridische obstakels", "rechtszaak", "beroep", "raad van state", "wettelijke belemmeringen", "vergunningprocedure", "stikstofregels", "wetswijziging"),
        },
    ),
    Label(
        "capacity",
        "Institutional capacity & skills",
        "Capacity barriers: too few municipal staff, missing technical skills and expertise, lack of experience with "
        "project preparation, shortage of qualified installers and workforce, high staff turnover in the administration.",
        {
            "en": ("lack of staff", "staff shortage", "understaffed", "skills gap", "lack of expertise", "technical capacity",
                   "institutional capacity", "capacity building", "shortage of installers", "skilled workers", "workforce",
                   "staff turnover", "limited capacity", "in-house expertise", "training of staff", "project preparation",
                   "lack of skills", "skills shortage", "shortage of skilled workers", "lack of qualified staff", "limited staff", "small team", "no dedicated staff", "lack of technical expertise", "lack of know-how", "limited experience", "overstretched", "administrative capacity", "lack of time", "external consultants", "installer shortage", "labour shortage", "capacity constraints", "qualified installers"),
            "it": ("carenza di personale", "competenze tecniche", "capacità amministrativa", "formazione del personale",
                   "mancanza di competenze",
                   "personale insufficiente", "carenza di tecnici", "competenze specialistiche", "risorse umane", "carenza di manodopera", "sovraccarico degli uffici"),
            "de": ("personalmangel", "fachkräftemangel", "fehlende kapazitäten", "fachwissen", "kompetenzen",
                   "verwaltungskapazität", "qualifizierung",
                   "mangel an fachkräften", "fehlendes personal", "personelle ressourcen", "fehlendes know-how", "überlastung", "handwerkermangel", "personelle kapazitäten", "unbesetzte stellen"),
            "fr": ("manque de personnel", "compétences techniques", "ingénierie", "montée en compétences",
                   "pénurie de main-d'œuvre", "capacités administratives",
                   "manque de compétences", "pénurie d'artisans", "artisans qualifiés", "manque de temps", "moyens humains", "manque d'ingénierie", "savoir-faire"),
            "es": ("falta de personal", "capacidad técnica", "capacitación", "competencias", "escasez de instaladores",
                   "capacidad administrativa",
                   "escasez de mano de obra", "falta de conocimientos", "personal técnico", "recursos humanos", "falta de experiencia"),
            "pl": ("brak kadr", "brak personelu", "kompetencje", "brak doświadczenia", "niedobór fachowców", "szkolenia",
                   "niedobór kadr", "brak wykwalifikowanych pracowników", "brak wiedzy", "zasoby kadrowe", "braki kadrowe", "brak specjalistów"),
            "nl": ("personeelstekort", "capaciteitstekort", "gebrek aan expertise", "vakmensen", "kennis en kunde",
                   "tekort aan installateurs",
                   "gebrek aan personeel", "krapte op de arbeidsmarkt", "te weinig vakmensen", "gebrek aan kennis", "beperkte capaciteit", "ambtelijke capaciteit"),
        },
    ),
    Label(
        "governance",
        "Governance",
        "Governance barriers: departmental silos, fragmented responsibilities, weak coordination between municipal "
        "departments, utilities and national or regional government, multi-level governance conflicts, political change.",
        {
            "en": ("silo", "silos", "siloed", "fragmented responsibilities", "coordination between departments",
                   "cross-departmental", "multi-level governance", "political cycle", "political change", "mandate",
                   "competences", "regional government", "national government", "lack of coordination",
                   "ownership of the network", "governance structure", "municipal departments", "election",
                   "split responsibilities", "unclear responsibilities", "different departments", "several levels of government", "conflicting goals", "conflicting priorities", "coordination problems", "fragmented governance", "institutional fragmentation", "competing interests", "change of administration", "political will", "lack of political support", "division of responsibilities"),
            "it": ("governance", "coordinamento tra uffici", "competenze frammentate", "multilivello", "silos",
                   "cambio di amministrazione",
                   "frammentazione delle competenze", "mancanza di coordinamento", "conflitti di competenza", "volontà politica", "cambio di giunta", "livelli di governo"),
            "de": ("zuständigkeiten", "ressortübergreifend", "silodenken", "abstimmung", "mehrebenen", "kommunalpolitik",
                   "koordination",
                   "zielkonflikte", "unklare zuständigkeiten", "fehlende abstimmung", "politischer wille", "ressortdenken", "schnittstellen", "kompetenzverteilung", "mehrere ebenen"),
            "fr": ("gouvernance", "silos", "coordination entre services", "compétences partagées", "multi-niveaux",
                   "intercommunalité",
                   "millefeuille administratif", "enchevêtrement des compétences", "multiplicité des acteurs", "manque de coordination", "volonté politique", "changement de majorité"),
            "es": ("gobernanza", "silos", "coordinación entre departamentos", "competencias", "multinivel",
                   "cambio de gobierno",
                   "falta de coordinación", "reparto de competencias", "niveles de gobierno", "voluntad política", "fragmentación institucional"),
            "pl": ("zarządzanie", "koordynacja", "kompetencje samorządu", "współpraca międzywydziałowa", "wielopoziomowe",
                   "brak koordynacji", "podział kompetencji", "rozproszenie odpowiedzialności", "wola polityczna", "zmiana władz", "szczeble administracji"),
            "nl": ("bestuur", "verkokering", "samenwerking tussen afdelingen", "afstemming", "meerlagig bestuur",
                   "versnippering",
                   "versnipperde verantwoordelijkheden", "onduidelijke rolverdeling", "gebrek aan regie", "bestuurlijke drukte", "meerdere overheden", "politieke wil"),
        },
    ),
    Label(
        "data",
        "Data & monitoring",
        "Data and monitoring barriers: missing or poor emissions data, no baseline inventory, metering gaps, "
        "unavailable energy consumption data, weak monitoring, reporting and verification of progress.",
        {
            "en": ("lack of data", "data gap", "data gaps", "data availability", "data quality", "missing data", "baseline",
                   "emissions inventory", "greenhouse gas inventory", "monitoring", "metering", "smart meter",
                   "reporting", "indicator", "dashboard", "data sharing", "measurement", "verification", "mrv",
                   "no reliable data", "poor data", "data not available", "unreliable data", "data access", "lack of monitoring", "no baseline", "incomplete data", "outdated data", "inconsistent data", "data formats", "data protection"),
            "it": ("mancanza di dati", "dati", "monitoraggio", "inventario delle emissioni", "indicatori", "contatori",
                   "dati mancanti", "qualità dei dati", "accesso ai dati", "dati incompleti", "assenza di dati"),
            "de": ("datenlage", "datenlücken", "monitoring", "treibhausgasbilanz", "indikatoren", "datenverfügbarkeit",
                   "messung",
                   "fehlende daten", "datenqualität", "datenzugang", "datenbeschaffung", "unvollständige daten", "datenhoheit", "datenformate", "datenschutz"),
            "fr": ("manque de données", "données", "suivi", "inventaire des émissions", "indicateurs", "comptage",
                   "données manquantes", "qualité des données", "accès aux données", "données incomplètes", "absence de données", "protection des données"),
            "es": ("falta de datos", "datos", "seguimiento", "inventario de emisiones", "indicadores", "monitorización",
                   "datos incompletos", "calidad de los datos", "acceso a los datos", "ausencia de datos", "protección de datos"),
            "pl": ("brak danych", "dane", "monitoring", "inwentaryzacja emisji", "wskaźniki", "pomiary",
                   "jakość danych", "dostęp do danych", "niepełne dane", "brak rzetelnych danych", "ochrona danych"),
            "nl": ("gebrek aan data", "gegevens", "monitoring", "emissie-inventaris", "indicatoren", "meetgegevens",
                   "datakwaliteit", "ontbrekende gegevens", "toegang tot data", "onvolledige gegevens"),
        },
    ),
    Label(
        "acceptance",
        "Public acceptance & participation",
        "Acceptance barriers: public opposition, resistance from residents or businesses, low trust, protests, "
        "not-in-my-backyard reactions, low participation and engagement, misinformation and equity concerns.",
        {
            "en": ("public acceptance", "opposition", "resistance", "protest", "backlash", "nimby", "residents objected",
                   "low trust", "public support", "public opposition", "concerns of residents", "complaints", "referendum",
                   "social acceptance", "low participation", "engagement", "energy poverty", "fairness", "equity",
                   "opponents", "objections", "petition", "petitions", "local opposition", "mistrust", "distrust", "scepticism", "controversial", "contested", "polarised", "public resistance", "lack of support", "reluctance", "reluctant", "loss of parking"),
            "it": ("accettazione", "opposizione", "proteste", "resistenze", "consenso", "partecipazione dei cittadini",
                   "povertà energetica",
                   "contrarietà", "diffidenza", "malcontento", "polemiche", "petizione", "timori", "scetticismo", "ostilità"),
            "de": ("akzeptanz", "widerstand", "proteste", "bürgerinitiative", "ablehnung", "vertrauen", "energiearmut",
                   "bürgerproteste", "einwände", "einwendungen", "skepsis", "misstrauen", "umstritten", "vorbehalte", "befürchtungen", "petition", "unmut", "bedenken"),
            "fr": ("acceptabilité", "opposition", "contestation", "résistance", "riverains", "précarité énergétique",
                   "méfiance", "réticences", "hostilité", "pétition", "mécontentement", "controverse", "inquiétudes", "défiance", "craintes"),
            "es": ("aceptación", "oposición", "rechazo", "protestas", "vecinos", "pobreza energética",
                   "rechazo social", "recelo", "desconfianza", "malestar", "polémica", "quejas vecinales", "reticencias", "temores"),
            "pl": ("akceptacja społeczna", "sprzeciw", "protesty", "opór mieszkańców", "ubóstwo energetyczne",
                   "opór", "niechęć", "nieufność", "kontrowersje", "petycja", "skargi mieszkańców", "obawy"),
            "nl": ("draagvlak", "weerstand", "bezwaar", "protest", "acceptatie", "energiearmoede",
                   "bezwaren", "verzet", "wantrouwen", "onvrede", "petitie", "scepsis", "omstreden"),
        },
    ),
    Label(
        "technology",
        "Market & technology readiness",
        "Technology and market barriers: immature or unproven technology, lack of suppliers, grid congestion, "
        "supply chain shortages, interoperability problems and technical integration risks.",
        {
            "en": ("technology readiness", "immature technology", "unproven technology", "grid congestion", "grid capacity",
                   "supply chain", "lack of suppliers", "technical risk", "interoperability", "pilot stage",
                   "market readiness", "technical challenges", "battery range", "network capacity", "shortage of equipment",
                   "technical problems", "technical difficulties", "technical limitations", "performance problems", "design performance", "teething problems", "grid connection", "congested", "geological risk", "drilling risk", "exploration risk", "technical feasibility", "not yet mature", "lack of standards", "compatibility", "delivery times"),
            "it": ("maturità tecnologica", "congestione della rete", "catena di approvvigionamento", "rischio tecnico",
                   "problemi tecnici", "difficoltà tecniche", "allacciamento alla rete", "saturazione della rete", "rischio geologico", "tempi di consegna", "fattibilità tecnica"),
            "de": ("technologiereife", "netzengpass", "netzkapazität", "lieferketten", "technisches risiko",
                   "technische probleme", "technische schwierigkeiten", "netzanschluss", "netzengpässe", "fündigkeitsrisiko", "lieferzeiten", "lieferengpässe", "kinderkrankheiten", "technische machbarkeit"),
            "fr": ("maturité technologique", "congestion du réseau", "chaîne d'approvisionnement", "risque technique",
                   "difficultés techniques", "problèmes techniques", "raccordement au réseau", "saturation du réseau", "risque géologique", "délais de livraison", "faisabilité technique"),
            "es": ("madurez tecnológica", "congestión de la red", "cadena de suministro", "riesgo técnico",
                   "problemas técnicos", "dificultades técnicas", "conexión a la red", "saturación de la red", "riesgo geológico", "plazos de entrega", "viabilidad técnica"),
            "pl": ("dojrzałość technologii", "przepustowość sieci", "łańcuch dostaw", "ryzyko techniczne",
                   "problemy techniczne", "trudności techniczne", "przyłączenie do sieci", "moc przyłączeniowa", "ryzyko geologiczne", "terminy dostaw", "wykonalność techniczna"),
            "nl": ("netcongestie", "technologische volwassenheid", "leveringsketen", "technisch risico",
                   "technische problemen", "netaansluiting", "vol stroomnet", "geologisch risico", "levertijden", "technische haalbaarheid"),
        },
    ),
    Label(
        "procurement",
        "Procurement",
        "Procurement barriers: rigid public procurement rules, lowest-price tendering, few bidders, complex tenders, "
        "difficulty buying innovative or circular solutions, long contracting processes and legal challenges to awards.",
        {
            "en": ("public procurement", "procurement", "tender", "tendering", "call for tenders", "bidders", "bid",
                   "lowest price", "green public procurement", "innovation procurement", "pre-commercial procurement",
                   "framework agreement", "contract award", "award criteria", "joint procurement",
                   "procurement rules", "procurement law", "failed tender", "no bids", "single bidder", "tender was cancelled", "appeal against the award"),
            "it": ("appalti pubblici", "appalto", "gara d'appalto", "bando di gara", "acquisti verdi", "codice degli appalti",
                   "gara deserta", "regole sugli appalti", "procedura di gara"),
            "de": ("vergabe", "ausschreibung", "vergaberecht", "öffentliche beschaffung", "beschaffung", "bieter",
                   "vergabeverfahren", "vergabevorschriften", "keine angebote", "nachprüfungsverfahren", "ausschreibungspflicht"),
            "fr": ("marchés publics", "appel d'offres", "commande publique", "achats publics", "soumissionnaires",
                   "code de la commande publique", "appel d'offres infructueux", "règles des marchés publics"),
            "es": ("contratación pública", "licitación", "pliegos", "compra pública", "adjudicación",
                   "licitación desierta", "ley de contratos", "pliegos de condiciones"),
            "pl": ("zamówienia publiczne", "przetarg", "zamówienie publiczne", "oferenci",
                   "prawo zamówień publicznych", "unieważnienie przetargu", "brak ofert"),
            "nl": ("aanbesteding", "inkoop", "aanbestedingsregels", "inschrijvers", "duurzaam inkopen",
                   "aanbestedingswet", "mislukte aanbesteding", "geen inschrijvingen"),
        },
    ),
)

LEVERS: tuple[Label, ...] = (
    Label(
        "technology",
        "Technology & infrastructure",
        "Technology and infrastructure as a lever: deploying heat pumps, solar, district heating, electric buses, "
        "charging networks, smart meters, digital twins and new physical infrastructure to cut emissions.",
        {
            "en": ("deployed", "installed", "installation", "infrastructure", "digital twin", "sensors", "smart meters",
                   "new network", "technology", "pilot plant", "roll-out", "platform",
                   "commissioned", "network extension", "charging points", "smart grid"),
            "it": ("installazione", "infrastruttura", "tecnologia", "gemello digitale", "sensori",
                   "messa in servizio", "colonnine di ricarica"),
            "de": ("installation", "infrastruktur", "technologie", "digitaler zwilling", "sensoren",
                   "inbetriebnahme", "ladepunkte"),
            "fr": ("installation", "infrastructure", "technologie", "jumeau numérique", "capteurs",
                   "mise en service", "déploiement", "bornes de recharge"),
            "es": ("instalación", "infraestructura", "tecnología", "gemelo digital", "sensores",
                   "puesta en marcha", "despliegue", "puntos de recarga"),
            "pl": ("instalacja", "infrastruktura", "technologia", "cyfrowy bliźniak", "czujniki",
                   "uruchomienie", "punkty ładowania"),
            "nl": ("installatie", "infrastructuur", "technologie", "digitale tweeling", "sensoren",
                   "ingebruikname", "uitrol", "laadpalen"),
        },
    ),
    Label(
        "governance",
        "Governance & policy",
        "Governance and policy as a lever: climate city contracts, action plans, targets, ordinances, cross-departmental "
        "task forces, mission teams, climate budgeting and partnerships between the city and stakeholders.",
        {
            "en": ("climate city contract", "climate action plan", "action plan", "secap", "sump", "ordinance", "target",
                   "policy", "strategy", "task force", "mission team", "climate budget", "climate budgeting",
                   "memorandum of understanding", "partnership", "steering committee", "council decision", "masterplan"),
            "it": ("contratto climatico", "piano d'azione", "paesc", "piano clima", "delibera", "strategia", "cabina di regia",
                   "protocollo d'intesa"),
            "de": ("klimaschutzkonzept", "aktionsplan", "klimaschutzplan", "ratsbeschluss", "strategie", "stabsstelle",
                   "klimavertrag", "verordnung"),
            "fr": ("contrat climat", "plan climat", "plan d'action", "délibération", "stratégie", "feuille de route",
                   "gouvernance partagée"),
            "es": ("contrato climático", "plan de acción", "plan de clima", "ordenanza", "estrategia", "hoja de ruta",
                   "mesa de coordinación"),
            "pl": ("plan działań", "strategia", "uchwała", "plan adaptacji", "kontrakt klimatyczny"),
            "nl": ("klimaatcontract", "actieplan", "klimaatplan", "raadsbesluit", "strategie", "programma", "convenant"),
        },
    ),
    Label(
        "finance",
        "Finance & funding",
        "Finance and funding as a lever: grants, EIB and ELENA support, EU funds, green bonds, energy performance "
        "contracts and ESCOs, revolving funds, on-bill repayment, crowdfunding, cooperatives and blended finance.",
        {
            "en": ("grant", "grants", "subsidy", "subsidies", "loan", "eib", "european investment bank", "elena",
                   "erdf", "cohesion fund", "recovery and resilience", "green bond", "green bonds", "esco",
                   "energy performance contract", "revolving fund", "on-bill", "crowdfunding", "blended finance",
                   "investment plan", "co-investment", "tax incentive", "public-private partnership", "feed-in"),
            "it": ("contributo", "incentivi", "finanziamento", "prestito", "bei", "fondi europei", "pnrr", "green bond",
                   "esco", "crowdfunding", "fondo rotativo", "conto termico"),
            "de": ("förderung", "fördermittel", "zuschuss", "kredit", "darlehen", "eib", "green bond", "contracting",
                   "bürgerbeteiligung finanziell", "förderprogramm", "fonds"),
            "fr": ("subvention", "financement", "prêt", "bei", "fonds européens", "obligation verte", "tiers-financement",
                   "contrat de performance énergétique", "financement participatif"),
            "es": ("subvención", "subvenciones", "financiación", "préstamo", "bei", "fondos next generation",
                   "bono verde", "feder", "financiación colectiva"),
            "pl": ("dotacja", "dotacje", "finansowanie", "pożyczka", "ebi", "fundusze europejskie", "kpo",
                   "zielone obligacje"),
            "nl": ("subsidie", "financiering", "lening", "eib", "groene obligatie", "warmtefonds", "revolverend fonds",
                   "crowdfunding"),
        },
    ),
    Label(
        "social_innovation",
        "Social innovation",
        "Social innovation as a lever: new collaborative models such as energy cooperatives, citizen-owned projects, "
        "neighbourhood initiatives, sharing schemes, living labs and new business models that change behaviour.",
        {
            "en": ("social innovation", "cooperative", "citizen-owned", "community-led", "neighbourhood initiative",
                   "living lab", "sharing scheme", "behaviour change", "new business model", "social enterprise",
                   "community ownership", "grassroots", "repair café", "community garden",
                   "energy community", "energy communities", "renewable energy community", "citizen energy", "community energy", "food sharing", "tool library", "mutual aid", "time bank", "social economy"),
            "it": ("innovazione sociale", "cooperativa", "laboratorio urbano", "living lab", "impresa sociale",
                   "cambiamento dei comportamenti",
                   "comunità energetica", "comunità energetiche rinnovabili"),
            "de": ("soziale innovation", "genossenschaft", "reallabor", "bürgerenergie", "nachbarschaftsinitiative",
                   "verhaltensänderung",
                   "energiegemeinschaft", "bürgerenergiegenossenschaft"),
            "fr": ("innovation sociale", "coopérative", "laboratoire vivant", "tiers-lieu", "économie sociale et solidaire",
                   "changement de comportement",
                   "communauté énergétique", "coopérative citoyenne"),
            "es": ("innovación social", "cooperativa", "laboratorio urbano", "economía social", "cambio de comportamiento",
                   "comunidad energética", "comunidades energéticas"),
            "pl": ("innowacja społeczna", "spółdzielnia", "inicjatywa sąsiedzka", "żywe laboratorium",
                   "społeczność energetyczna", "spółdzielnia energetyczna"),
            "nl": ("sociale innovatie", "coöperatie", "buurtinitiatief", "living lab", "gedragsverandering",
                   "energiecoöperatie", "energiegemeenschap", "buurtcoöperatie"),
        },
    ),
    Label(
        "learning",
        "Learning & capabilities",
        "Learning and capabilities as a lever: training, peer learning and twinning between cities, knowledge exchange, "
        "guidance, toolkits, study visits, skills programmes and capacity building for staff and installers.",
        {
            "en": ("training", "peer learning", "peer-to-peer", "twinning", "knowledge exchange", "study visit", "toolkit",
                   "guidance", "capacity building", "skills programme", "upskilling", "lessons learned", "replication",
                   "community of practice", "mentoring", "academy", "workshop series",
                   "training courses", "lessons learnt", "exchange of experience", "knowledge transfer", "good practice", "best practice", "replicable", "network of cities", "webinar", "e-learning"),
            "it": ("formazione", "scambio di conoscenze", "gemellaggio", "visita di studio", "buone pratiche", "linee guida",
                   "corsi di formazione", "lezioni apprese", "replicabilità", "rete di città"),
            "de": ("schulung", "weiterbildung", "wissensaustausch", "erfahrungsaustausch", "leitfaden", "städtepartnerschaft",
                   "qualifizierung",
                   "fortbildung", "schulungen", "übertragbarkeit"),
            "fr": ("formation", "échange de connaissances", "jumelage", "visite d'étude", "guide pratique", "retour d'expérience",
                   "retours d'expérience", "bonnes pratiques", "réplicabilité", "réseau de villes"),
            "es": ("formación", "intercambio de conocimiento", "hermanamiento", "visita de estudio", "guía práctica",
                   "buenas prácticas",
                   "lecciones aprendidas", "replicabilidad", "red de ciudades"),
            "pl": ("szkolenia", "wymiana wiedzy", "wymiana doświadczeń", "dobre praktyki", "poradnik",
                   "sieć miast"),
            "nl": ("training", "opleiding", "kennisuitwisseling", "leren van elkaar", "handreiking", "werkbezoek",
                   "geleerde lessen", "kennisdeling", "netwerk van steden"),
        },
    ),
    Label(
        "participation",
        "Democracy & participation",
        "Democracy and participation as a lever: citizen assemblies, participatory budgeting, public consultation, "
        "co-creation workshops, stakeholder dialogue, neighbourhood meetings and engaging residents in decisions.",
        {
            "en": ("citizen assembly", "citizens' assembly", "participatory budgeting", "public consultation", "co-creation",
                   "co-design", "stakeholder dialogue", "neighbourhood meeting", "residents were involved", "citizen panel",
                   "public hearing", "engagement campaign", "citizen participation", "deliberation", "climate assembly",
                   "consultation", "residents were consulted", "information evenings", "public meetings", "workshops with residents", "online survey", "citizen involvement", "involving residents", "stakeholder engagement", "participatory process", "citizens' jury", "focus groups", "co-decision"),
            "it": ("assemblea dei cittadini", "bilancio partecipativo", "consultazione pubblica", "co-progettazione",
                   "partecipazione", "processo partecipativo",
                   "assemblee pubbliche", "incontri con i cittadini", "laboratori partecipativi", "consultazione", "coinvolgimento dei cittadini", "dibattito pubblico"),
            "de": ("bürgerrat", "bürgerbeteiligung", "beteiligungsverfahren", "bürgerhaushalt", "öffentliche anhörung",
                   "workshop mit anwohnern", "partizipation",
                   "bürgerdialog", "informationsveranstaltung", "bürgerforum", "anwohnerversammlung", "online-dialog", "befragung", "mitsprache", "beteiligung"),
            "fr": ("convention citoyenne", "budget participatif", "concertation", "consultation publique", "co-construction",
                   "participation citoyenne",
                   "réunions publiques", "ateliers participatifs", "enquête publique", "consultation des habitants", "dialogue"),
            "es": ("asamblea ciudadana", "presupuestos participativos", "consulta pública", "participación ciudadana",
                   "co-creación", "proceso participativo",
                   "reuniones vecinales", "talleres participativos", "consulta", "implicación ciudadana", "encuesta"),
            "pl": ("panel obywatelski", "budżet obywatelski", "konsultacje społeczne", "partycypacja", "współtworzenie",
                   "konsultacje", "spotkania z mieszkańcami", "warsztaty", "ankieta", "zaangażowanie mieszkańców"),
            "nl": ("burgerberaad", "burgerparticipatie", "participatie", "inspraak", "bewonersavond", "cocreatie",
                   "informatieavond", "bewonersbijeenkomst", "inspraakavond", "enquête", "dialoog", "betrokkenheid van bewoners", "meedenken"),
        },
    ),
)

FAMILIES: dict[str, tuple[Label, ...]] = {"domains": DOMAINS, "barriers": BARRIERS, "levers": LEVERS}
TYPE_KEYS = tuple(label.key for label in RESOURCE_TYPES)


def labels_of(family: str) -> tuple[Label, ...]:
    """The labels of one tag family ('domains', 'barriers', 'levers')."""
    return FAMILIES[family]


def keys_of(family: str) -> tuple[str, ...]:
    return tuple(label.key for label in FAMILIES[family])


def label_for(family: str, key: str) -> Label:
    for label in FAMILIES[family]:
        if label.key == key:
            return label
    raise KeyError(f"{key!r} is not a key of {family}")


def normalise_key(field_name: str, value: str, allowed: tuple[str, ...]) -> str:
    """Match a user-given key case-insensitively; raise InvalidParameter naming the allowed keys."""
    wanted = value.strip().lower()
    for key in allowed:
        if key == wanted:
            return key
    raise InvalidParameter(f"unknown {field_name} {value!r}; allowed values: {', '.join(allowed)}")


# The thesaurus of concepts (technical and everyday words per language) lives beside this vocabulary; it is
# re-exported here so that "the taxonomy module" stays the one place to look for words of the field.
from nzc_knowledge.thesaurus import CONCEPTS, THESAURUS_LANGUAGES, Concept, all_variants, concept, concepts_of_domain  # noqa: E402

__all__ = [
    "CONCEPTS", "DOMAINS", "BARRIERS", "FAMILY_OF_FILTER", "LEVERS", "FAMILIES", "RESOURCE_TYPES", "TAG_FAMILIES", "THESAURUS_LANGUAGES", "TYPE_KEYS",
    "Concept", "Label", "all_variants", "concept", "concepts_of_domain", "keys_of", "label_for", "labels_of", "normalise_key",
]
