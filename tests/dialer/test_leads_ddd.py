from __future__ import annotations

from datetime import timedelta

import phonenumbers
import pytest

from dialer.leads.ddd import (
    DDD_OFFSETS,
    UF_BY_DDD,
    UFS,
    PhoneNumberError,
    ddd_of,
    is_mobile,
    offsets_for,
    uf_of,
    uf_of_ddd,
)

H = timedelta(hours=1)


def test_all_67_ddds_are_mapped_to_a_uf_and_an_offset() -> None:
    assert len(UF_BY_DDD) == 67
    assert set(DDD_OFFSETS) == set(UF_BY_DDD)
    assert set(UF_BY_DDD.values()) == UFS  # every UF has at least one DDD


# Copied from /work/shared/reference/ddd-timezones.md (DDD:UF:UTC), so the check runs anywhere.
REFERENCE_TABLE = """
    11:SP:-3 12:SP:-3 13:SP:-3 14:SP:-3 15:SP:-3 16:SP:-3 17:SP:-3 18:SP:-3 19:SP:-3 21:RJ:-3
    22:RJ:-3 24:RJ:-3 27:ES:-3 28:ES:-3 31:MG:-3 32:MG:-3 33:MG:-3 34:MG:-3 35:MG:-3 37:MG:-3
    38:MG:-3 41:PR:-3 42:PR:-3 43:PR:-3 44:PR:-3 45:PR:-3 46:PR:-3 47:SC:-3 48:SC:-3 49:SC:-3
    51:RS:-3 53:RS:-3 54:RS:-3 55:RS:-3 61:DF:-3 62:GO:-3 63:TO:-3 64:GO:-3 65:MT:-4 66:MT:-4
    67:MS:-4 68:AC:-5 69:RO:-4 71:BA:-3 73:BA:-3 74:BA:-3 75:BA:-3 77:BA:-3 79:SE:-3 81:PE:-3
    82:AL:-3 83:PB:-3 84:RN:-3 85:CE:-3 86:PI:-3 87:PE:-3 88:CE:-3 89:PI:-3 91:PA:-3 92:AM:-4
    93:PA:-3 94:PA:-3 95:RR:-4 96:AP:-3 97:AM:-4 98:MA:-3 99:MA:-3
"""


def test_table_matches_the_reference_table_row_by_row() -> None:
    rows = [entry.split(":") for entry in REFERENCE_TABLE.split()]
    assert len(rows) == 67
    for ddd, uf, utc in rows:
        assert UF_BY_DDD[ddd] == uf
        assert int(utc) * H in DDD_OFFSETS[ddd]


def test_every_ddd_is_a_geographic_area_for_phonenumbers() -> None:
    # cross-check the UF table's keys against libphonenumber: a mobile in each DDD is valid
    for ddd in UF_BY_DDD:
        number = phonenumbers.parse(f"+55{ddd}991234567")
        assert phonenumbers.is_valid_number(number), ddd


@pytest.mark.parametrize(
    ("ddd", "hours"),
    [("11", -3), ("21", -3), ("65", -4), ("66", -4), ("67", -4), ("69", -4), ("92", -4), ("95", -4), ("68", -5), ("93", -3), ("94", -3)],
)
def test_single_offset_ddds(ddd: str, hours: int) -> None:
    assert offsets_for(f"+55{ddd}987654321") == (hours * H,)
    assert offsets_for(f"+55{ddd}32123456") == (hours * H,)


def test_noronha_landline_prefix_settles_utc_minus_2() -> None:
    assert offsets_for("+558136191234") == (-2 * H,)
    assert offsets_for("+558132123456") == (-3 * H,)
    assert set(offsets_for("+5581987654321")) == {-2 * H, -3 * H}  # mobile: can't tell


def test_western_amazonas_landlines_are_utc_minus_5() -> None:
    assert offsets_for("+559734151234") == (-5 * H,)  # Benjamin Constant
    assert offsets_for("+559734121234") == (-4 * H,)  # Tabatinga stays UTC-4
    assert set(offsets_for("+5597987654321")) == {-4 * H, -5 * H}


def test_ddd_and_uf_of_a_number() -> None:
    assert ddd_of("+5511987654321") == "11"
    assert uf_of("+5568999123456") == "AC"
    assert uf_of_ddd("61") == "DF"
    assert is_mobile("+5511987654321") and not is_mobile("+551132123456")


@pytest.mark.parametrize("bad", ["5511987654321", "+551198765432100", "+5520987654321", "+1 650", "", "+55 11 98765-4321", "+551198765432\u0661"])
def test_bad_numbers_are_refused_by_name(bad: str) -> None:
    with pytest.raises(PhoneNumberError, match="E.164|DDD"):
        offsets_for(bad)


def test_unknown_ddd_names_the_ddd() -> None:
    with pytest.raises(PhoneNumberError, match="'20'"):
        uf_of_ddd("20")
