"""Sectors of a Werkplein and the mapping of ISCO-08 groups onto them.

Werkpleinen organise employer services and often their coaches in sector teams ("teams naar
branche"): zorg, techniek, logistiek, bouw, horeca, ... ESCO classifies occupations by ISCO-08,
not by sector, so an imported ESCO taxonomy needs a mapping from ISCO groups to these sectors.

`ISCO_SECTOR` maps ISCO-08 code *prefixes* (1 to 4 digits) to a sector code; the longest
matching prefix wins (`sector_for_isco`). The table is authored for Dutch labour-market
practice (UWV "sectoren"/branches), and documented in docs/taxonomy.md. Everything an ISCO
prefix does not catch falls back to ``business_services``.
"""

from __future__ import annotations

import pandas as pd

#: (code, Dutch team name, English name), in display order.
SECTORS: tuple[tuple[str, str, str], ...] = (
    ("care", "zorg", "care"),
    ("technical", "techniek", "technical"),
    ("logistics", "logistiek", "logistics"),
    ("construction", "bouw", "construction"),
    ("hospitality", "horeca", "hospitality"),
    ("retail", "detailhandel", "retail"),
    ("cleaning", "schoonmaak", "cleaning"),
    ("agriculture", "groen", "agriculture and green"),
    ("manufacturing", "productie", "manufacturing"),
    ("business_services", "zakelijke dienstverlening", "business services"),
    ("ict", "ICT", "ICT"),
)

SECTOR_CODES: tuple[str, ...] = tuple(code for code, _, _ in SECTORS)

DEFAULT_SECTOR = "business_services"

#: ISCO-08 prefix -> sector code. Longest prefix wins. Sub-major (2-digit) groups set the
#: broad rule; minor (3-digit) and unit (4-digit) groups correct it where a Werkplein would
#: place the occupation in another sector team (e.g. plumbers 7126 are installatietechniek,
#: forklift drivers 8344 are logistiek, kitchen helpers 9412 are horeca).
ISCO_SECTOR: dict[str, str] = {
    # 0 armed forces; 1 managers: by what they manage
    "0": "business_services",
    "1": "business_services",
    "131": "agriculture",
    "1321": "manufacturing",
    "1322": "manufacturing",
    "1323": "construction",
    "1324": "logistics",
    "133": "ict",
    "1342": "care",
    "1343": "care",
    "1344": "care",
    "141": "hospitality",
    "142": "retail",
    # 2 professionals
    "21": "technical",
    "2131": "agriculture",
    "2132": "agriculture",
    "2133": "agriculture",
    "2141": "manufacturing",
    "2142": "construction",
    "216": "construction",
    "2166": "business_services",  # graphic and multimedia designers
    "22": "care",
    "23": "care",  # teaching: zorg, welzijn & onderwijs
    "24": "business_services",
    "25": "ict",
    "26": "business_services",
    "2634": "care",  # psychologists
    "2635": "care",  # social work and counselling professionals
    # 3 technicians and associate professionals
    "31": "technical",
    "3112": "construction",  # civil engineering technicians
    "312": "manufacturing",  # mining, manufacturing and construction supervisors
    "3123": "construction",
    "313": "manufacturing",  # process control technicians
    "314": "agriculture",  # life science technicians (agriculture, forestry)
    "3141": "technical",  # laboratory technicians
    "315": "logistics",  # ship and aircraft controllers and technicians
    "32": "care",
    "33": "business_services",
    "3331": "logistics",  # clearing and forwarding agents
    "34": "business_services",
    "341": "care",  # social work associate professionals
    "3434": "hospitality",  # chefs
    "35": "ict",
    # 4 clerical support workers
    "4": "business_services",
    "4224": "hospitality",  # hotel receptionists
    "432": "logistics",  # material-recording and transport clerks
    # 5 service and sales workers
    "51": "business_services",
    "511": "logistics",  # travel attendants, conductors
    "512": "hospitality",  # cooks
    "513": "hospitality",  # waiters, bartenders
    "514": "retail",  # hairdressers, beauticians (personal services with a counter)
    "515": "cleaning",  # building and housekeeping supervisors, domestic housekeepers, caretakers
    "516": "agriculture",  # pet groomers, animal care workers
    "52": "retail",
    "5244": "business_services",  # contact centre salespersons: klantcontact
    "53": "care",
    "54": "business_services",  # protective services: security
    # 6 skilled agricultural, forestry and fishery workers
    "6": "agriculture",
    # 7 craft and related trades
    "71": "construction",
    "7126": "technical",  # plumbers and pipe fitters: installatietechniek
    "7127": "technical",  # air conditioning and refrigeration mechanics
    "7133": "cleaning",  # building structure cleaners
    "72": "manufacturing",
    "723": "technical",  # machinery mechanics and repairers
    "73": "manufacturing",
    "74": "technical",
    "75": "manufacturing",
    # 8 plant and machine operators and assemblers
    "81": "manufacturing",
    "82": "manufacturing",
    "83": "logistics",
    "8341": "agriculture",
    "8342": "construction",
    # 9 elementary occupations
    "91": "cleaning",
    "92": "agriculture",
    "931": "construction",
    "932": "manufacturing",
    "933": "logistics",
    "94": "hospitality",
    "95": "retail",
    "96": "cleaning",  # refuse workers
    "962": "logistics",  # messengers, package deliverers
}


def sector_for_isco(code: str | None) -> str:
    """The sector of an ISCO-08 code (1-4 digits): the longest matching prefix in
    `ISCO_SECTOR`, else `DEFAULT_SECTOR`. Non-digit characters (ESCO sometimes writes
    ``2654.1.7``-style occupation codes) are cut off at the first dot."""
    if code is None:
        return DEFAULT_SECTOR
    digits = str(code).strip().split(".", 1)[0]
    for n in range(min(len(digits), 4), 0, -1):
        hit = ISCO_SECTOR.get(digits[:n])
        if hit is not None:
            return hit
    return DEFAULT_SECTOR


def sectors_frame() -> pd.DataFrame:
    """The sector table [code, name_nl, name_en]."""
    return pd.DataFrame(list(SECTORS), columns=["code", "name_nl", "name_en"])
