from ecgcrnn.domain import LEAD_SETS, STANDARD_LEADS, canonical_lead, lead_set_name, sort_leads


def test_canonical_lead_matches_case_insensitively():
    assert canonical_lead("avr") == "aVR"
    assert canonical_lead(" V1 ") == "V1"
    assert canonical_lead("ii") == "II"
    assert canonical_lead("X") == "X"


def test_sort_leads_puts_unknown_names_last_in_given_order():
    assert sort_leads(["V2", "Z", "I", "avf", "Y"]) == ("I", "aVF", "V2", "Z", "Y")


def test_every_lead_set_is_in_standard_order():
    for leads in LEAD_SETS.values():
        assert sort_leads(leads) == leads
    assert LEAD_SETS["twelve"] == STANDARD_LEADS


def test_lead_set_name_ignores_order_and_case():
    assert lead_set_name(["v2", "II", "I"]) == "three"
    assert lead_set_name(["I", "II", "III", "aVR", "aVL", "aVF"]) == "six"
    assert lead_set_name(["I", "V5"]) is None
