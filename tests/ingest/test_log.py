from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from looptrace.ingest.log import IngestLog, LogClosedError, LogEntry, LogFullError, RecordKind


def _collect() -> tuple[list[LogEntry], Any]:
    seen: list[LogEntry] = []

    def on_durable(records: list[tuple[LogEntry, Any]]) -> None:
        seen.extend(entry for entry, _ in records)

    return seen, on_durable


def test_appended_records_are_durable_in_order_and_replay_after_reopen(tmp_path: Path) -> None:
    seen, on_durable = _collect()
    log = IngestLog(tmp_path, on_durable=on_durable)
    positions = [log.append(RecordKind.TRACES_PROTOBUF, f"body-{i}".encode()).result(5) for i in range(5)]
    log.close()

    assert positions == sorted(positions)
    assert [e.payload for e in seen] == [f"body-{i}".encode() for i in range(5)]
    reopened = IngestLog(tmp_path)
    assert [e.payload for e in reopened.replay(0)] == [f"body-{i}".encode() for i in range(5)]
    assert [e.payload for e in reopened.replay(positions[2])] == [b"body-3", b"body-4"]
    assert reopened.end_position == positions[-1]
    reopened.close()


def test_concurrent_appends_share_fsyncs_and_all_become_durable(tmp_path: Path) -> None:
    seen, on_durable = _collect()
    log = IngestLog(tmp_path, on_durable=on_durable)
    errors: list[BaseException] = []

    def sender(n: int) -> None:
        try:
            for i in range(50):
                log.append(RecordKind.TRACES_JSON, f"{n}:{i}".encode()).result(10)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()

    assert errors == []
    assert len(seen) == 400
    assert len({e.payload for e in seen}) == 400
    assert [e.end_position for e in seen] == sorted(e.end_position for e in seen)


def test_torn_tail_from_a_crash_is_dropped_and_later_appends_follow_the_last_whole_record(tmp_path: Path) -> None:
    log = IngestLog(tmp_path)
    end = log.append(RecordKind.TRACES_PROTOBUF, b"whole record").result(5)
    log.close()
    segment = next(tmp_path.glob("*.log"))
    with segment.open("ab") as f:
        f.write(b"\x40\x00\x00\x00garbage")  # a header promising 64 bytes, then a crash

    log = IngestLog(tmp_path)
    assert log.end_position == end
    log.append(RecordKind.TRACES_PROTOBUF, b"after restart").result(5)
    log.close()
    assert [e.payload for e in IngestLog(tmp_path).replay(0)] == [b"whole record", b"after restart"]


def test_corrupted_record_stops_replay_at_the_corruption(tmp_path: Path) -> None:
    log = IngestLog(tmp_path)
    log.append(RecordKind.TRACES_PROTOBUF, b"first").result(5)
    log.append(RecordKind.TRACES_PROTOBUF, b"second").result(5)
    log.close()
    segment = next(tmp_path.glob("*.log"))
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF  # flip a bit in the last payload: its CRC no longer matches
    segment.write_bytes(bytes(data))

    assert [e.payload for e in IngestLog(tmp_path).replay(0)] == [b"first"]


def test_log_refuses_appends_past_its_limit_until_the_store_catches_up(tmp_path: Path) -> None:
    log = IngestLog(tmp_path, max_bytes=100)
    end = 0
    with pytest.raises(LogFullError, match="not yet stored"):
        for _ in range(10):
            end = log.append(RecordKind.TRACES_PROTOBUF, b"x" * 40).result(5)
    log.release(end)
    log.append(RecordKind.TRACES_PROTOBUF, b"x" * 40).result(5)
    log.close()


def test_released_segments_are_deleted_but_the_tail_is_kept(tmp_path: Path) -> None:
    log = IngestLog(tmp_path, segment_bytes=64)
    end = 0
    for i in range(6):
        end = log.append(RecordKind.TRACES_PROTOBUF, bytes([i]) * 50).result(5)
    assert len(list(tmp_path.glob("*.log"))) >= 3
    log.release(end)
    assert len(list(tmp_path.glob("*.log"))) == 1
    log.append(RecordKind.TRACES_PROTOBUF, b"more").result(5)
    log.close()
    assert [e.payload for e in IngestLog(tmp_path).replay(end)] == [b"more"]


def test_append_after_close_is_refused(tmp_path: Path) -> None:
    log = IngestLog(tmp_path)
    log.close()
    log.close()  # idempotent
    with pytest.raises(LogClosedError):
        log.append(RecordKind.LOGS_JSON, b"{}")
