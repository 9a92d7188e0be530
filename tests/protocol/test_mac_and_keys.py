"""MAC algorithms against published vectors; working keys in field 62 with check values."""

from __future__ import annotations

import pytest

from terminal.protocol import Message, Tpdu, decode
from terminal.protocol.security import (
    TEST_MASTER_KEY,
    KeyCheckError,
    WorkingKeys,
    check_value,
    compute_mac,
    decrypt_key,
    mac_block,
    pack_working_keys,
    sign,
    unpack_working_keys,
    verify,
)

# ANSI X9.9 / FIPS PUB 113 example: key 0123456789ABCDEF, the ASCII text
# "7654321 Now is the time for " zero-padded; the MAC is the last CBC block,
# whose first 4 bytes the standard prints as F1D30F68.
FIPS113_KEY = bytes.fromhex("0123456789ABCDEF")
FIPS113_TEXT = b"7654321 Now is the time for "

# ISO/IEC 9797-1 Annex B, MAC algorithm 3 (the ANSI X9.19 retail MAC), padding
# method 1: K = 0123456789ABCDEF, K' = FEDCBA9876543210, "Now is the time for all ".
ISO9797_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
ISO9797_TEXT = b"Now is the time for all "

# CUP "ECB" MAC: a captured 0200 with the MAC its host computed ("B3A092AE" as
# ASCII in field 64) and the MAC key, published at https://q.cnblogs.com/q/128930
# (TPDU 6000030000, header 603210320072; MAB = MTI .. field 63).
CUP_CAPTURE = bytes.fromhex(
    "600003000060321032007202003020048000c0801500000000000000123400000203009930303030"
    "3030303139353237313831383232313738373531353600192600000100060000000000435f011232"
    "38343431323334353637383930313233345f03063136303033365f04063230303832365c02303142"
    "33413039324145"
)
CUP_MAC_KEY = bytes.fromhex("0723C80DB5F4CD3D0723C80DB5F4CD3D")

# Working key under a master key, from the worked example at
# https://blog.csdn.net/zhu244912654/article/details/80005341
# (TMK 70F2...B923, TAK 96D605EA176B7E9E encrypted = C24A8FB57AA20123 clear).
CSDN_TMK = bytes.fromhex("70F2A84CCBC2AE8625CBB0F2C22AB923")


def test_x9_9_matches_the_fips_113_vector():
    assert compute_mac("x9.9", FIPS113_KEY, FIPS113_TEXT)[:4].hex() == "f1d30f68"


def test_x9_19_matches_the_iso_9797_1_algorithm_3_vector():
    assert compute_mac("x9.19", ISO9797_KEY, ISO9797_TEXT).hex() == "a1c72e74ea3fa9b6"


def test_cup_ecb_matches_a_mac_computed_by_a_cup_host():
    assert CUP_CAPTURE[-8:] == b"B3A092AE"
    assert compute_mac("cup-ecb", CUP_MAC_KEY, mac_block(CUP_CAPTURE)) == b"B3A092AE"
    assert verify(CUP_CAPTURE, CUP_MAC_KEY, "cup-ecb")


def test_the_mac_block_runs_from_the_mti_to_the_field_before_64():
    assert mac_block(CUP_CAPTURE)[:2] == bytes.fromhex("0200")
    assert len(mac_block(CUP_CAPTURE)) == len(CUP_CAPTURE) - 11 - 8


def test_a_working_key_decrypts_under_its_master_key_as_published():
    clear = decrypt_key(CSDN_TMK, bytes.fromhex("96D605EA176B7E9E"))
    assert clear.hex().upper() == "C24A8FB57AA20123"


@pytest.mark.parametrize("algorithm", ["cup-ecb", "x9.9", "x9.19"])
def test_one_changed_bit_breaks_every_mac(algorithm):
    assert verify(CUP_CAPTURE[:-8] + compute_mac(algorithm, CUP_MAC_KEY,
                                                 mac_block(CUP_CAPTURE)), CUP_MAC_KEY, algorithm)
    changed = bytearray(CUP_CAPTURE)
    changed[40] ^= 0x01
    mac = compute_mac(algorithm, CUP_MAC_KEY, mac_block(CUP_CAPTURE))
    assert not verify(bytes(changed[:-8]) + mac, CUP_MAC_KEY, algorithm)


def test_sign_puts_the_mac_in_field_64_of_a_message_that_still_decodes():
    message = Message("0200", {3: "000000", 4: "000000001234", 11: "000001", 41: "10008060",
                               42: "898100000000001"}, Tpdu(), "603200320002")
    signed, raw = sign(message, ISO9797_KEY, "x9.19")
    assert decode(raw) == signed
    assert verify(raw, ISO9797_KEY, "x9.19")


@pytest.mark.parametrize(("double", "size"), [(True, 40), (False, 24)])
def test_working_keys_round_trip_through_field_62(double, size):
    keys = WorkingKeys.generate(double_length=double)
    packed = pack_working_keys(TEST_MASTER_KEY, keys)
    assert len(packed) == size
    assert unpack_working_keys(TEST_MASTER_KEY, packed) == keys


def test_a_key_that_does_not_match_its_check_value_is_refused_without_showing_it():
    keys = WorkingKeys.generate()
    packed = bytearray(pack_working_keys(TEST_MASTER_KEY, keys))
    packed[36] ^= 0xFF  # the MAC key's check value
    with pytest.raises(KeyCheckError, match="MAC key") as caught:
        unpack_working_keys(TEST_MASTER_KEY, bytes(packed))
    assert keys.mac_key.hex() not in str(caught.value).lower()
    with pytest.raises(KeyCheckError, match="PIN key"):
        unpack_working_keys(bytes(16), pack_working_keys(TEST_MASTER_KEY, keys))


def test_a_field_62_of_the_wrong_size_is_refused():
    with pytest.raises(KeyCheckError, match="24, 36, 40 or 60"):
        unpack_working_keys(TEST_MASTER_KEY, bytes(39))


def test_a_check_value_is_four_bytes_of_zeros_encrypted():
    assert check_value(FIPS113_KEY) == bytes.fromhex("D5D44FF7")


def test_working_keys_never_show_in_their_repr():
    keys = WorkingKeys.generate()
    assert keys.mac_key.hex() not in repr(keys) and str(keys.mac_key) not in repr(keys)
