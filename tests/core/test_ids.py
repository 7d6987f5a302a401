import base64

from hypothesis import given
from hypothesis import strategies as st

from console.core.ids import IdSeed, random_ulid, ulid, ulid_millis


def test_ulid_of_known_value():
    # 48-bit time 0x0178E3D8A000 (2021-04-...), entropy all zero -> time part then 16 zeros
    assert ulid(0, bytes(10)) == "0" * 26
    value = ulid(1, bytes(10))
    assert value == "0000000001" + "0" * 16


def test_seed_header_round_trip():
    seed = IdSeed(1700000000000, bytes(range(10)))
    assert seed.header == "1700000000000," + base64.b64encode(bytes(range(10))).decode()
    assert IdSeed.parse(seed.header) == seed


def test_event_ids_add_position_to_last_four_bytes():
    seed = IdSeed(1700000000000, bytes([9] * 6) + (0xFFFFFFFE).to_bytes(4, "big"))
    first, second = seed.event_id(0), seed.event_id(1)
    # position 1 -> 0xFFFFFFFF, position 2 wraps to 0
    assert first == ulid(1700000000000, bytes([9] * 6) + (0xFFFFFFFF).to_bytes(4, "big"))
    assert second == ulid(1700000000000, bytes([9] * 6) + bytes(4))
    assert ulid_millis(first) == 1700000000000


def test_malformed_seeds_are_ignored():
    for bad in ["", "abc", "123", "123,", "12a,AAAAAAAAAAAAAA==", "123,not-base64!",
                "123," + base64.b64encode(b"short").decode(), "++123,AAAAAAAAAAAAAA==",
                "+,AAAAAAAAAAAAAA==", "-123,AAAAAAAAAAAAAA==", " 123,AAAAAAAAAAAAAA=="]:
        assert IdSeed.parse(bad) is None


def test_a_leading_plus_is_read_as_go_reads_it():
    assert IdSeed.parse("+123,AAAAAAAAAAAAAA==") == IdSeed(123, bytes(10))


@given(st.integers(0, 2**48 - 1), st.binary(min_size=10, max_size=10))
def test_ulid_time_round_trips(millis, entropy):
    value = ulid(millis, entropy)
    assert len(value) == 26
    assert ulid_millis(value) == millis


def test_random_ulids_differ():
    assert random_ulid() != random_ulid()
