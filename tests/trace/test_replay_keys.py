"""The replay's key office on its own: sign-on and sign-off, MACs sealed or kept bad."""

from __future__ import annotations

from simulator.resign import Resigner
from terminal.protocol import Message, Tpdu, encode
from terminal.protocol.catalogue import CATALOGUE, Kind
from terminal.protocol.security import TEST_MASTER_KEY, unpack_working_keys, verify

TPDU, HEADER = Tpdu(0x60, 0x0006, 0x0000), "603200320002"
IDS = {41: "10008060", 42: "898100000000001"}


def _network(kind: Kind, trace: str) -> Message:
    row = CATALOGUE[kind]
    sub60 = {"message_type": "00", "batch": "000001", "network_code": row.network_code}
    return Message(row.mti, {11: trace, **IDS, 60: sub60}, TPDU, HEADER)


def _answer(request: Message, fields: dict | None = None) -> Message:
    body = {11: request[11], **IDS, 39: "00", 60: request[60], **(fields or {})}
    return Message(f"{int(request.mti) + 10:04d}", body, TPDU.reply(), HEADER)


def _sale_response(mac: bytes) -> Message:
    fields = {3: "000000", 4: "000000001234", 11: "000002", **IDS, 39: "00", 64: mac}
    return Message("0210", fields, TPDU.reply(), HEADER)


def test_a_recorded_sign_on_delivers_keys_the_replay_issued_and_a_sign_off_takes_them_back():
    office = Resigner()
    sign_on = _network(Kind.SIGN_ON, "000001")
    recorded = _answer(sign_on, {62: bytes(40)})  # under a master key nobody here has
    replayed = office.rekey(sign_on, recorded)
    assert replayed[62] != recorded[62] and replayed[39] == "00"
    assert unpack_working_keys(TEST_MASTER_KEY, replayed[62]) == office.keys
    sign_off = _network(Kind.SIGN_OFF, "000002")
    office.rekey(sign_off, _answer(sign_off))
    assert office.keys is None


def test_a_refused_recorded_sign_on_issues_no_keys():
    office = Resigner()
    sign_on = _network(Kind.SIGN_ON, "000001")
    refused = _answer(sign_on).with_fields({39: "97"})
    assert office.rekey(sign_on, refused) == refused
    assert office.keys is None


def test_a_macd_request_before_any_keys_is_answered_a0_and_a_sign_on_by_the_replay_itself():
    office = Resigner()
    sale = Message("0200", {3: "000000", 4: "000000001234", 11: "000002", 25: "00", **IDS,
                            49: "156", 60: {"message_type": "22", "batch": "000001",
                                            "network_code": "000"},
                            64: b"12345678"}, TPDU, HEADER)
    assert office.own_answer(sale, next_recorded=None)[39] == "A0"
    sign_on = _network(Kind.SIGN_ON, "000003")
    own = office.own_answer(sign_on, next_recorded=sale)
    assert own[39] == "00" and office.keys is not None
    assert office.own_answer(sale, next_recorded=None) is None  # keys now: the recording answers


def test_a_response_mac_is_computed_here_unless_it_failed_in_the_field():
    office = Resigner()
    sign_on = _network(Kind.SIGN_ON, "000001")
    office.rekey(sign_on, _answer(sign_on, {62: bytes(40)}))
    recorded_mac = b"0A1B2C3D"
    good = office.seal(_sale_response(recorded_mac), "ok")
    kept = office.seal(_sale_response(recorded_mac), "bad")
    assert verify(good, office.keys.mac_key, "cup-ecb")
    assert kept == encode(_sale_response(recorded_mac)) and not verify(
        kept, office.keys.mac_key, "cup-ecb"
    )
    assert (office.resigned, office.kept_bad) == (1, 1)
