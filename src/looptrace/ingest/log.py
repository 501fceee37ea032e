"""The ingest log: durable append with group commit, replay after restart, bounded size.

    receiver ──append()──► commit thread ──write + one fsync per group──► segment files
        ▲                        │
        └── resolved when on disk ┘──► on_durable(records)  (the pipeline's in-memory feed)

A receiver's request is acknowledged only after its record is on disk (DESIGN.md
"acknowledged means on disk"). Concurrent appends that arrive while a write is in flight
share the next fsync. The pipeline stores batches together with the position of their last
record (`TraceWriter.write(..., log_position)`); on start, `replay(position)` yields every
record after that position, so a crash after a 2xx loses nothing. Segments wholly below the
committed position are deleted by `release(position)`. When the bytes not yet committed
exceed `max_bytes`, `append` raises `LogFullError` and receivers answer 429/503.

Record layout (little endian): u32 payload length, u32 CRC-32 of (kind byte + payload),
u8 kind, payload. A record cut short by a crash (torn tail) fails its length or CRC check;
replay stops there and the next append truncates it away.
"""

from __future__ import annotations

import enum
import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

_log = logging.getLogger(__name__)

_HEADER = struct.Struct("<IIB")
_SEGMENT_SUFFIX = ".log"
_MAX_RECORD_BYTES = 1 << 31


class RecordKind(enum.IntEnum):
    """What a record holds; the payload is the request body, uncompressed."""

    TRACES_PROTOBUF = 1
    TRACES_JSON = 2
    LOGS_PROTOBUF = 3
    LOGS_JSON = 4


@dataclass(slots=True, frozen=True)
class LogEntry:
    """One durable record and where it ends in the log (its position)."""

    kind: RecordKind
    payload: bytes
    end_position: int


class LogFullError(Exception):
    """The log holds more uncommitted bytes than its limit; retry later."""


class LogClosedError(Exception):
    """The log was closed (the server is shutting down)."""


class IngestLog:
    """Append-only, segmented, fsynced log of accepted requests.

    Thread-safety: `append` may be called from any thread; one commit thread does every
    write and fsync. `on_durable` is called on the commit thread, in log order, after the
    records are on disk; it must not block for long.
    """

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = 1 << 30,
        segment_bytes: int = 64 << 20,
        fsync: bool = True,
        on_durable: Callable[[list[tuple[LogEntry, Any]]], None] | None = None,
    ) -> None:
        """Open (or create) the log in `directory`.

        Args:
            directory: folder of segment files; created if missing.
            max_bytes: uncommitted bytes past which `append` raises `LogFullError`.
            segment_bytes: size after which a new segment file starts.
            fsync: fsync each group before acknowledging (turn off only in benchmarks).
            on_durable: receives each group of records, with the context given to `append`,
                once they are on disk.
        """
        if max_bytes <= 0 or segment_bytes <= 0:
            raise ValueError("max_bytes and segment_bytes must be positive")
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)
        self._max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._fsync = fsync
        self._on_durable = on_durable
        # _lock guards _pending, _closed, _committed and _end_position.
        self._lock = threading.Condition()
        self._pending: list[tuple[RecordKind, bytes, Any, Future[int]]] = []
        self._pending_bytes = 0
        self._closed = False
        self._committed = 0
        self._segments = self._scan_segments()
        self._end_position = self._recover_end()
        self._file = self._open_tail()
        self._thread = threading.Thread(target=self._commit_loop, name="looptrace-ingest-log", daemon=True)
        self._thread.start()

    # --- public API -------------------------------------------------------------------------

    @property
    def end_position(self) -> int:
        """Position just past the last durable record."""
        with self._lock:
            return self._end_position

    @property
    def uncommitted_bytes(self) -> int:
        """Bytes appended (or pending) but not yet released by the pipeline."""
        with self._lock:
            return self._end_position + self._pending_bytes - self._committed

    def append(self, kind: RecordKind, payload: bytes, context: Any = None) -> Future[int]:
        """Queue a record; the future resolves to its end position once it is on disk.

        `context` travels with the record to `on_durable` (the receiver's decoded request,
        so the pipeline need not decode it again); it is not written.

        Raises:
            LogFullError: too many uncommitted bytes; the caller should answer 429/503.
            LogClosedError: the log is closed.
        """
        if len(payload) >= _MAX_RECORD_BYTES:
            raise ValueError("record too large")
        future: Future[int] = Future()
        with self._lock:
            if self._closed:
                raise LogClosedError("ingest log is closed")
            if self._end_position + self._pending_bytes - self._committed > self._max_bytes:
                raise LogFullError(
                    f"ingest log holds more than {self._max_bytes} bytes not yet stored; the store is behind"
                )
            self._pending.append((kind, payload, context, future))
            self._pending_bytes += _HEADER.size + len(payload)
            self._lock.notify()
        return future

    def replay(self, after_position: int) -> Iterator[LogEntry]:
        """Yield every durable record that ends after `after_position`, in order.

        Call before appending anything new (at start-up, before receivers open).
        """
        for base, path in list(self._segments):
            size = path.stat().st_size
            if base + size <= after_position:
                continue
            with path.open("rb") as f:
                offset = 0
                while True:
                    entry = _read_record(f, base + offset)
                    if entry is None:
                        break
                    offset = entry.end_position - base
                    if entry.end_position > after_position:
                        yield entry

    def release(self, position: int) -> None:
        """Mark everything up to `position` as stored; delete segments wholly below it."""
        with self._lock:
            self._committed = max(self._committed, position)
            # A segment is wholly stored when the next one starts at or below the committed
            # position; the tail segment is never deleted (it is being written).
            keep: list[tuple[int, Path]] = []
            for i, (base, path) in enumerate(self._segments):
                is_stored = i + 1 < len(self._segments) and self._segments[i + 1][0] <= self._committed
                if is_stored:
                    try:
                        path.unlink()
                        continue
                    except OSError as exc:  # a leftover segment costs only disk space
                        _log.warning("could not delete ingest log segment %s: %s", path, exc)
                keep.append((base, path))
            self._segments = keep

    def close(self) -> None:
        """Write what is pending, stop the commit thread and close the file. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lock.notify()
        self._thread.join()
        self._file.close()

    # --- internals --------------------------------------------------------------------------

    def _scan_segments(self) -> list[tuple[int, Path]]:
        segments: list[tuple[int, Path]] = []
        for path in self._dir.glob(f"*{_SEGMENT_SUFFIX}"):
            try:
                segments.append((int(path.stem), path))
            except ValueError:
                continue
        segments.sort()
        return segments

    def _recover_end(self) -> int:
        """Find the end of the last whole record, truncating a torn tail."""
        if not self._segments:
            return 0
        base, path = self._segments[-1]
        valid = 0
        with path.open("rb") as f:
            while True:
                entry = _read_record(f, base + valid)
                if entry is None:
                    break
                valid = entry.end_position - base
        if valid != path.stat().st_size:
            _log.warning("ingest log %s: dropping a torn record at byte %d (never acknowledged)", path, valid)
            with path.open("r+b") as f:
                f.truncate(valid)
        return base + valid

    def _open_tail(self) -> BinaryIO:
        if not self._segments:
            self._segments.append((0, self._dir / f"{0:020d}{_SEGMENT_SUFFIX}"))
        return self._segments[-1][1].open("ab")

    def _commit_loop(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._lock.wait()
                if not self._pending and self._closed:
                    return
                group, self._pending = self._pending, []
                self._pending_bytes = 0
                position = self._end_position
            entries: list[LogEntry] = []
            try:
                if position - self._segments[-1][0] >= self._segment_bytes:
                    self._roll_segment(position)
                chunks: list[bytes] = []
                for kind, payload, _, _ in group:
                    crc = _crc(kind, payload)
                    chunks.append(_HEADER.pack(len(payload), crc, kind))
                    chunks.append(payload)
                    position += _HEADER.size + len(payload)
                    entries.append(LogEntry(kind, payload, position))
                self._file.write(b"".join(chunks))
                self._file.flush()
                if self._fsync:
                    os.fsync(self._file.fileno())
            except OSError as exc:
                _log.error("ingest log write failed: %s", exc)
                for *_, future in group:
                    future.set_exception(exc)
                with self._lock:
                    self._end_position = self._recover_end_after_failure()
                continue
            with self._lock:
                self._end_position = position
            if self._on_durable is not None:
                try:
                    self._on_durable(
                        [(entry, context) for entry, (_, _, context, _) in zip(entries, group, strict=True)]
                    )
                except Exception:  # the pipeline reports its own errors; never kill the log
                    _log.exception("ingest pipeline feed failed")
            for (*_, future), entry in zip(group, entries, strict=True):
                future.set_result(entry.end_position)

    def _recover_end_after_failure(self) -> int:
        self._file.close()
        end = self._recover_end()
        self._file = self._open_tail()
        return end

    def _roll_segment(self, position: int) -> None:
        self._file.close()
        path = self._dir / f"{position:020d}{_SEGMENT_SUFFIX}"
        self._segments.append((position, path))
        self._file = path.open("ab")
        if self._fsync:  # make the new file's directory entry durable too
            fd = os.open(self._dir, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _crc(kind: int, payload: bytes) -> int:
    """The record's checksum: CRC-32 of the kind byte, then the payload."""
    return zlib.crc32(payload, zlib.crc32(bytes((kind,))))


def _read_record(f: BinaryIO, start_position: int) -> LogEntry | None:
    header = f.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    length, crc, kind = _HEADER.unpack(header)
    payload = f.read(length)
    if len(payload) < length or _crc(kind, payload) != crc:
        return None
    try:
        record_kind = RecordKind(kind)
    except ValueError:
        return None
    return LogEntry(record_kind, payload, start_position + _HEADER.size + length)
