"""Geography and staffing vocabulary of the demo region: Werkplein Zutphen-Lochem-Bronckhorst.

Coordinates are WGS84 of the town halls (municipalities) and approximate centroids of the
four-digit postcode areas (PC4) of the towns and villages; `weight` is a rough share of the
municipality's inhabitants living in that area. Municipality codes are the CBS codes.
"""

from __future__ import annotations

#: (CBS code, name, lat, lon, relative share of the Werkplein's clients)
#: Zutphen, a small city, has a larger share of bijstand clients than its rural neighbours.
MUNICIPALITIES: tuple[tuple[str, str, float, float, float], ...] = (
    ("GM0301", "Zutphen", 52.1406, 6.1961, 0.45),
    ("GM0262", "Lochem", 52.1594, 6.4139, 0.25),
    ("GM1876", "Bronckhorst", 52.0503, 6.3096, 0.30),
)

#: Brummen joined several regional arrangements with Zutphen; the generator adds it on request.
BRUMMEN = ("GM0213", "Brummen", 52.0903, 6.1556, 0.18)

#: (PC4, municipality code, place, lat, lon, weight within the municipality)
POSTCODE_AREAS: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("7201", "GM0301", "Zutphen centrum", 52.1400, 6.1990, 0.12),
    ("7202", "GM0301", "Zutphen De Hoven", 52.1370, 6.1820, 0.07),
    ("7203", "GM0301", "Zutphen Noordveen", 52.1520, 6.2010, 0.16),
    ("7204", "GM0301", "Zutphen Waterkwartier", 52.1470, 6.2150, 0.18),
    ("7205", "GM0301", "Zutphen Zuidwijken", 52.1290, 6.2080, 0.17),
    ("7206", "GM0301", "Zutphen Leesten", 52.1300, 6.2280, 0.13),
    ("7207", "GM0301", "Zutphen Looweide", 52.1200, 6.2200, 0.08),
    ("7231", "GM0301", "Warnsveld", 52.1350, 6.2400, 0.09),
    ("7241", "GM0262", "Lochem", 52.1600, 6.4150, 0.30),
    ("7242", "GM0262", "Lochem Oost", 52.1560, 6.4300, 0.15),
    ("7244", "GM0262", "Barchem", 52.1260, 6.4520, 0.05),
    ("7245", "GM0262", "Laren (Gld)", 52.1960, 6.3650, 0.10),
    ("7211", "GM0262", "Eefde", 52.1660, 6.2250, 0.12),
    ("7213", "GM0262", "Gorssel", 52.2000, 6.2020, 0.13),
    ("7214", "GM0262", "Epse", 52.2240, 6.2130, 0.08),
    ("7217", "GM0262", "Harfsen", 52.2050, 6.2800, 0.04),
    ("7218", "GM0262", "Almen", 52.1570, 6.3020, 0.03),
    ("7251", "GM1876", "Vorden", 52.1050, 6.3120, 0.22),
    ("7255", "GM1876", "Hengelo (Gld)", 52.0500, 6.3100, 0.22),
    ("7256", "GM1876", "Keijenborg", 52.0330, 6.3130, 0.05),
    ("7021", "GM1876", "Zelhem", 52.0070, 6.3470, 0.22),
    ("7025", "GM1876", "Halle", 51.9920, 6.4150, 0.06),
    ("7221", "GM1876", "Steenderen", 52.0640, 6.1880, 0.10),
    ("7223", "GM1876", "Baak", 52.0740, 6.2250, 0.04),
    ("7224", "GM1876", "Toldijk", 52.0510, 6.2280, 0.03),
    ("6999", "GM1876", "Hummelo", 52.0040, 6.2300, 0.06),
    ("6971", "GM0213", "Brummen", 52.0900, 6.1550, 0.50),
    ("6961", "GM0213", "Eerbeek", 52.1050, 6.0580, 0.45),
    ("6974", "GM0213", "Leuvenheim", 52.0720, 6.1630, 0.05),
)

#: (id, display name, kind, sectors): the sector teams ("teams naar branche") and one
#: integrated team for clients far from work or with many needs.
TEAMS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("team-care", "Team zorg & welzijn", "sector", ("care",)),
    ("team-technical", "Team techniek", "sector", ("technical",)),
    ("team-logistics", "Team logistiek", "sector", ("logistics",)),
    ("team-construction-production", "Team bouw, productie & groen", "sector", ("construction", "manufacturing", "agriculture")),
    ("team-hospitality-retail", "Team horeca, detailhandel & schoonmaak", "sector", ("hospitality", "retail", "cleaning")),
    ("team-business-ict", "Team zakelijke dienstverlening & ICT", "sector", ("business_services", "ict")),
    ("team-integrated", "Integraal team", "integrated", ()),
)

#: team leaders (teamleiders) who approve assignment changes, by team
TEAM_LEADERS = {
    "team-care": "teamleider-zorg",
    "team-technical": "teamleider-techniek",
    "team-logistics": "teamleider-logistiek",
    "team-construction-production": "teamleider-bouw-productie",
    "team-hospitality-retail": "teamleider-horeca-retail",
    "team-business-ict": "teamleider-zakelijk",
    "team-integrated": "teamleider-integraal",
}

FIRST_NAMES = (
    "Anne", "Bas", "Carla", "Daan", "Esther", "Frank", "Gerda", "Henk", "Ilse", "Jeroen", "Karin", "Lars",
    "Marieke", "Niels", "Olga", "Pieter", "Renske", "Sander", "Tineke", "Ugur", "Vera", "Wouter", "Yasmina",
    "Zeynep", "Bram", "Fatima", "Joost", "Linda", "Mohamed", "Nicole", "Rik", "Saskia", "Thijs", "Wendy",
)
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer", "Bos", "Wolters",
    "Kamphuis", "Wissink", "Lubbers", "Nijenhuis", "Hulshof", "ter Horst", "Klein Gunnewiek", "Eskes",
    "Brinkman", "Hendriks", "Yilmaz", "El Amrani", "Kowalski", "Tesfay", "Groot Wassink", "Heuvelink",
)
COMPANY_WORDS = {
    "care": ("Zorggroep", "Thuiszorg", "Zorgcentrum", "Woonzorg"),
    "technical": ("Installatietechniek", "Techniek", "Elektro", "Service"),
    "logistics": ("Logistiek", "Transport", "Distributie", "Expeditie"),
    "construction": ("Bouw", "Bouwbedrijf", "Aannemersbedrijf", "Schilders"),
    "hospitality": ("Hotel", "Restaurant", "Brasserie", "Catering"),
    "retail": ("Supermarkt", "Mode", "Bouwmarkt", "Winkel"),
    "cleaning": ("Schoonmaak", "Facilitair", "Glazenwassers", "Cleaning"),
    "agriculture": ("Hoveniers", "Kwekerij", "Melkveebedrijf", "Groenvoorziening"),
    "manufacturing": ("Metaal", "Voedingsmiddelen", "Productie", "Verpakkingen"),
    "business_services": ("Administratiekantoor", "Beveiliging", "Klantcontact", "Kantoor"),
    "ict": ("ICT", "Software", "Automatisering", "IT Services"),
}
