"""What the etcd store's keys are called and what their values hold.

:class:`Keys` names every key of a net's prefix (the layout is drawn in
:mod:`dipen.stores.etcd`); :class:`Records` turns tokens, firings and commits into values and
back: a :class:`~dipen.state.State` from a range read, and each commit's
:class:`~dipen.state.Change` from a watch response.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ...errors import StoreError, TokenError
from ...state import Change, Commit, FiringRecord, State
from ...tokens import JsonCodec, Token, freeze

__all__ = ["Keys", "Records", "dumps", "pairs", "range_end", "where"]

#: compact JSON that refuses NaN and infinities (etcd values are read by other runners)
dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def where(commit: Commit) -> str:
    """``commit`` in words, for error messages.

    Examples
    --------
    >>> from dipen.state import Commit
    >>> where(Commit("put", None, None, None))
    'put (manual)'
    >>> where(Commit("start", "f1", "t", "default"))
    "start of firing 'f1' of transition 't'"
    """
    if commit.firing is None:
        return f"{commit.kind} ({commit.note or 'manual'})"
    return f"{commit.kind} of firing {commit.firing!r} of transition {commit.transition!r}"


def range_end(prefix: bytes) -> bytes:
    """The end of etcd's range of the keys that start with ``prefix``.

    Examples
    --------
    >>> range_end(b"dipen/net/")
    b'dipen/net0'
    """
    end = bytearray(prefix)
    end[-1] += 1
    return bytes(end)


def pairs(items: Any) -> tuple[tuple[str, str], ...]:
    """``(place, token id)`` pairs as tuples (JSON gives lists)."""
    return tuple((place, token) for place, token in items)


class Keys:
    """The keys of one net under its prefix.

    Examples
    --------
    >>> keys = Keys("dipen/net/")
    >>> keys.token("a", "t1"), keys.change
    (b'dipen/net/places/a/tokens/t1', b'dipen/net/change')
    """

    __slots__ = ("change", "end", "net", "prefix", "start")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.start = prefix.encode()
        self.end = range_end(self.start) if prefix else b""
        self.net = self.start + b"net"
        self.change = self.start + b"change"

    def rev(self, place: str) -> bytes:
        """The key whose mod_revision is the revision of ``place``."""
        return f"{self.prefix}places/{place}/rev".encode()

    def token(self, place: str, token_id: str) -> bytes:
        return f"{self.prefix}places/{place}/tokens/{token_id}".encode()

    def taken(self, place: str, token_id: str) -> bytes:
        return f"{self.prefix}places/{place}/taken/{token_id}".encode()

    def firing(self, commit: Commit) -> bytes:
        """The key of the running firing of ``commit``."""
        return f"{self.prefix}firings/{commit.transition}/{commit.firing}".encode()

    def control(self, note: dict[str, Any]) -> bytes:
        """The key of the standing control that control ``note`` sets or clears: a blocked
        transition, a blocked region, or a waiting manual request (under its transition)."""
        action = note["action"]
        if action in ("block", "unblock"):
            if note["target"] == "region":
                return f"{self.prefix}regions/{note['name']}/control".encode()
            return f"{self.prefix}transitions/{note['name']}/blocked".encode()
        return f"{self.prefix}transitions/{note['transition']}/requests/{note['id']}".encode()

    def leaders(self, region: str) -> bytes:
        """The prefix of the leader keys of ``region`` (one per campaigning store's lease)."""
        return f"{self.prefix}regions/{region}/leader/".encode()


class Records:
    """Values of the token, firing and change keys, with token data encoded by ``codec``."""

    def __init__(self, codec: Any) -> None:
        self.codec = codec
        self._json = isinstance(codec, JsonCodec)

    def token_value(self, token: Token, seq: int, commit: Commit) -> bytes:
        """The value of ``token``'s key: its data, ``seq`` (its place in ``commit``) and time."""
        try:
            if self._json:
                return dumps({"data": token.data, "seq": seq, "time": commit.time}).encode()
            data = base64.b64encode(self.codec.encode(token.data)).decode()
            return dumps({"data64": data, "seq": seq, "time": commit.time}).encode()
        except (TypeError, ValueError) as exc:
            raise TokenError(f"{where(commit)}: token {token.id!r} cannot be stored: {exc}") from None

    def token_data(self, value: dict[str, Any]) -> Any:
        """The data of a decoded token value."""
        try:
            if self._json:
                return freeze(value["data"])
            return self.codec.decode(base64.b64decode(value["data64"]))
        except KeyError:
            stored = "JSON" if "data" in value else "another codec's bytes"
            raise StoreError(
                f"a token's data is stored as {stored}, but this store reads it with "
                f"{type(self.codec).__name__}: open the store with the codec that wrote it "
                "(EtcdStore(..., codec=...))") from None

    @staticmethod
    def firing_value(commit: Commit) -> bytes:
        """The record of the firing that ``commit`` (a start) begins."""
        return dumps({"region": commit.region, "node": commit.node, "time": commit.time,
                      "taken": commit.take}).encode()

    @staticmethod
    def change_record(commit: Commit, commit_id: str) -> dict[str, Any]:
        """The change record of ``commit``: added tokens by id only (their data is in their
        token keys, written in the same transaction). The change key holds one record, or a
        list of them for the commits written together in one transaction."""
        return {
            "id": commit_id, "kind": commit.kind, "firing": commit.firing,
            "transition": commit.transition, "region": commit.region, "node": commit.node,
            "time": commit.time, "take": commit.take, "remove": commit.remove,
            "release": commit.release, "add": [(place, token.id) for place, token in commit.add],
            "note": commit.note,
        }

    def rebuild(self, events: Any, keys: Keys,
                pending: dict[bytes, bytes] | None = None) -> list[Change]:
        """The changes among one watch response's events (a revision is never split).

        A commit's change record is its transaction's last operation, so its added tokens'
        keys come before it. ``pending`` carries token values from one response to the next:
        a net whose initial marking is too big for one transaction is published in several,
        its change record last (give the same dict for every response of one watch).
        """
        tokens: dict[bytes, bytes] = {} if pending is None else pending
        changes = []
        for event in events:
            kv = event.kv
            if event.type:  # DELETE
                continue
            if kv.key == keys.change:
                value = json.loads(kv.value)
                batch = value if type(value) is list else (value,)
                parts = len(batch)
                for part, r in enumerate(batch):
                    try:
                        add = tuple(
                            (place, Token(token_id, self.token_data(json.loads(
                                tokens[keys.token(place, token_id)])), None))
                            for place, token_id in r["add"])
                    except KeyError as exc:
                        raise StoreError(
                            f"the change at revision {kv.mod_revision} adds token key "
                            f"{exc.args[0]!r}, which the watch did not deliver (a history read "
                            "that starts inside a net's publication?)") from None
                    changes.append(Change(
                        kv.mod_revision, r["time"], r["node"], r["kind"], r["firing"],
                        r["transition"], r["region"], pairs(r["take"]), pairs(r["remove"]), add,
                        pairs(r["release"]), r["note"], part, parts))
                tokens.clear()
            elif b"/tokens/" in kv.key:
                tokens[kv.key] = kv.value
        return changes

    def state(self, definition: dict[str, Any], kvs: list[Any], keys: Keys,
              revision: int) -> State:
        """The state that the keys ``kvs``, read at ``revision``, hold."""
        n = len(keys.start)
        state = State((p["name"], p["capacity"]) for p in definition["places"])
        places = state.places
        tokens: list[tuple[int, int, str, str, Any]] = []
        taken: dict[str, str] = {}
        firings = []
        for kv in kvs:
            parts = kv.key[n:].decode().split("/")
            if parts[0] == "places" and len(parts) >= 3 and parts[1] in places:
                if parts[2] == "rev":
                    places[parts[1]].rev = kv.mod_revision
                elif parts[2] == "tokens":
                    value = json.loads(kv.value)
                    tokens.append((kv.mod_revision, value.get("seq", 0), parts[1], parts[3],
                                   self.token_data(value)))
                elif parts[2] == "taken":
                    taken[parts[3]] = kv.value.decode()
            elif parts[0] == "transitions" and len(parts) == 3 and parts[2] == "blocked":
                state.controls[f"block/transition/{parts[1]}"] = json.loads(kv.value)
            elif parts[0] == "transitions" and len(parts) == 4 and parts[2] == "requests":
                state.controls[f"request/{parts[3]}"] = json.loads(kv.value)
            elif parts[0] == "regions" and len(parts) == 3 and parts[2] == "control":
                state.controls[f"block/region/{parts[1]}"] = json.loads(kv.value)
            elif parts[0] == "firings" and len(parts) == 3:
                value = json.loads(kv.value)
                firings.append((kv.mod_revision, FiringRecord(
                    parts[2], parts[1], value["region"], value["node"],
                    tuple(tuple(pair) for pair in value["taken"]), value["time"])))
        # a token's age is its placement number: by revision, then its place in its change
        tokens.sort(key=lambda item: item[:2])
        for sequence, (_, _, name, token_id, data) in enumerate(tokens, 1):
            place = places[name]
            firing = taken.get(token_id)
            (place.free if firing is None else place.taken)[token_id] = Token(token_id, data, firing)
            place.added[token_id] = sequence
        state.sequence = len(tokens)
        state.firings = {record.id: record for _, record in sorted(firings, key=lambda f: f[0])}
        state.revision = revision
        return state
