"""The etcd store: a net's state in etcd, shared by runners on several machines.

Keys, under a prefix (``dipen/{net name}/`` by default)::

    net                              the net definition (JSON of Net.to_dict())
    change                           one version per transaction: the change record (JSON;
                                     added tokens by id only, their data is in their token
                                     keys), or a list of them for commits written together
    places/{place}/rev               empty; put in every commit that touches the place, so its
                                     mod_revision is the place's revision (the optimistic compare)
    places/{place}/tokens/{token}    {"data": ..., "seq": n, "time": t}; written only when the
                                     token is placed: (mod_revision, seq) orders tokens by age
    places/{place}/taken/{token}     the id of the firing that holds the token
    firings/{transition}/{firing}    {"region", "node", "time", "taken": [[place, token], ...]}
    regions/{region}/leader/{lease}  election: leased key, lowest create_revision leads

Every commit is one etcd transaction whose last operation puts ``change``; a watch of the
prefix therefore sees each commit's token keys and its change record at one revision, and
rebuilds the exact :class:`~dipen.state.Change` the commit returned (``subscribe``), also
from etcd's history (``changes``). etcd revisions are the store's revisions. Firing commits
that wait while another transaction is on its way are written together when their places are
disjoint (group commit, :mod:`.batching`): their changes share a revision as its parts.

The client is ``aetcd``'s gRPC layer (its generated stubs), imported when a store opens.
The modules, one part of :class:`EtcdStore` each:

- :mod:`.store`: :class:`EtcdStore`, which composes the parts below;
- :mod:`.connection`: the gRPC channel, TLS, authentication, reads and watches;
- :mod:`.lease`: the lease, its keep-alive, its freshness, and the ids made from it;
- :mod:`.election`: the leaderships held; campaigning for a region, resigning, losing it;
- :mod:`.transactions`: commits as transactions, their limits, lost replies, refusals;
- :mod:`.batching`: several waiting commits on disjoint places as one transaction;
- :mod:`.records`: the key names and the values of tokens, firings and changes;
- :mod:`.subscription`: a watch of the prefix that resumes after breaks.
"""

from __future__ import annotations

from .store import EtcdStore
from .transactions import MAX_REQUEST_BYTES, MAX_TXN_OPS

__all__ = ["MAX_REQUEST_BYTES", "MAX_TXN_OPS", "EtcdStore"]
