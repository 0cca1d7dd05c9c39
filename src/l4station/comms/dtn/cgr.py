"""Contact graph routing (CGR) as CCSDS 734.3-B-1 (Schedule-Aware Bundle Routing, SABR, 2019)
specifies it, after the tutorial of Fraire, De Jonckère & Burleigh (2021, JNCA 174, 102884).

A route is a sequence of contacts. Over contact C, a bundle that reached C's sender at time t
starts transmission at max(t, C.start), which must be strictly before C.end, and arrives at
max(t, C.start) + size/C.rate + C.owlt. No node is visited twice, and a contact is used only
if its residual volume (and what is left of it after the bundle could start) holds the bundle.

- :func:`best_route`: Dijkstra on the contact graph with (arrival, hops) labels. Waiting at a
  node is allowed and arrival over a contact never decreases with the time the bundle reaches its
  sender (FIFO), so a label is kept only if no label with as few hops reached its node as early:
  the earliest delivery, then the fewest hops, are exact; termination breaks the remaining ties
  among equal labels. Compiled with numba.
- Volume and backlog: a contact carries a bundle only if its residual volume, and its rate
  times the time left once the bundle could start, hold it; at the querying node a contact's
  backlog delays the start by backlog / rate (SABR 3.2.6.9).
- :func:`routes`: Yen's k shortest routes (Yen 1971) over contacts, ranked as SABR ranks them
  (3.2.6.9): earliest delivery, then fewer hops, then the route that terminates later (the
  earliest end among its contacts).

From node 1 to 5 at t = 0 on the tutorial's plan the best route is 1 -> 3 -> 4 -> 5, delivered at
t = 3 s (see ``tests/comms/dtn``). Two hops, the second contact opening at 50 s, each 1 s of
light: delivered at 51 s.

>>> from l4station.comms.dtn import plan
>>> hops = plan.from_ion("a contact +0 +100 1 2 1000\\na contact +50 +200 2 3 1000\\n"
...                      "a range +0 +200 1 2 1\\na range +0 +200 2 3 1\\n")
>>> route = Router(hops).best_route(1, 3, at_s=0.0)
>>> route.contacts, route.delivery_s
((0, 1), 51.0)
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from numba import njit

from l4station.comms.dtn.heap import pop, push
from l4station.comms.dtn.plan import ContactPlan
from l4station.errors import InputError


@dataclass(frozen=True)
class Route:
    """Contacts (indices into the plan) from the sender to the destination, with the delivery
    time (s, plan time) of a bundle sent at the query's time, and the volume (bits) it can carry:
    the least, over its hops, of the contact's residual volume and its rate times the time left
    after the bundle could start on it."""

    contacts: tuple[int, ...]
    delivery_s: float
    volume_bits: float
    termination_s: float

    def rank(self) -> tuple:
        return (self.delivery_s, len(self.contacts), -self.termination_s)

    def to_json(self, plan: ContactPlan) -> dict:
        return {"next_hop": int(plan.to[self.contacts[0]]),
                "hops": [{"from": int(plan.frm[c]), "to": int(plan.to[c]), "start": float(plan.start_s[c]),
                          "end": float(plan.end_s[c])} for c in self.contacts],
                "delivery_time": self.delivery_s, "volume_bits": self.volume_bits}


class Router:
    """A plan prepared for many queries: dense node indices and each node's contacts together.
    ``residual_bits`` (one per contact, default the contact's volume) is what is left to book;
    a simulation lowers it as it books bundles. ``backlog_bits`` (one per contact, default none)
    is what already waits at the querying node for each of its contacts (SABR 3.2.6.9.3: the
    local node's backlog delays a bundle's first transmission by backlog / rate)."""

    def __init__(self, plan: ContactPlan, residual_bits: np.ndarray | None = None,
                 backlog_bits: np.ndarray | None = None):
        self.plan = plan
        self.node_ids = plan.nodes
        index = {int(n): k for k, n in enumerate(self.node_ids)}
        self.index = index
        self.frm = np.searchsorted(self.node_ids, plan.frm)
        self.to = np.searchsorted(self.node_ids, plan.to)
        self.by_sender = np.argsort(self.frm, kind="stable")
        self.first = np.searchsorted(self.frm[self.by_sender], np.arange(len(self.node_ids) + 1))
        self.residual_bits = plan.volume_bits.copy() if residual_bits is None else np.asarray(residual_bits, float)
        self.backlog_bits = np.zeros(len(plan)) if backlog_bits is None else np.asarray(backlog_bits, float)
        if self.residual_bits.shape != (len(plan),) or self.backlog_bits.shape != (len(plan),):
            raise InputError(f"residual and backlog volumes must be one per contact ({len(plan)})")
        if np.any(~np.isfinite(self.backlog_bits) | (self.backlog_bits < 0)):
            raise InputError("backlog volumes must be finite and zero or more bits")

    def node(self, node: int) -> int:
        try:
            return self.index[int(node)]
        except (KeyError, ValueError, TypeError):
            known = ", ".join(str(n) for n in self.node_ids[:20]) + (" ..." if len(self.node_ids) > 20 else "")
            raise InputError(f"node {node} is not in the contact plan (its nodes: {known})") from None

    def _starts(self, source: int, at_s: float) -> np.ndarray:
        """Contact starts as the querying node sees them: its own contacts open for a new bundle
        only after their backlog has gone out."""
        mine = (self.frm == source) & (self.backlog_bits > 0)
        if not mine.any():
            return self.plan.start_s
        start = self.plan.start_s.copy()
        start[mine] = np.maximum(start[mine], at_s + self.backlog_bits[mine] / self.plan.rate_bps[mine])
        return start

    def _search(self, start, source: int, dest: int, at_s: float, bundle_bits: float, no_contact, no_node):
        p = self.plan
        path, arrival = _dijkstra(self.frm, self.to, start, p.end_s, p.rate_bps, p.owlt_s, self.residual_bits,
                                  self.by_sender, self.first, source, dest, float(at_s), float(bundle_bits),
                                  no_contact, no_node)
        return tuple(int(c) for c in path), arrival

    def _route(self, start, contacts: tuple[int, ...], at_s: float, bundle_bits: float) -> Route:
        p, t, volume = self.plan, float(at_s), np.inf
        for c in contacts:
            begin = max(t, start[c])
            volume = min(volume, self.residual_bits[c], p.rate_bps[c] * (p.end_s[c] - begin))
            t = begin + bundle_bits / p.rate_bps[c] + p.owlt_s[c]
        return Route(contacts, float(t), float(volume), float(min(p.end_s[c] for c in contacts)))

    def best_route(self, source: int, dest: int, at_s: float = 0.0, bundle_bits: float = 0.0) -> Route | None:
        """The earliest-delivery route from node ``source`` to node ``dest`` for a bundle of
        ``bundle_bits`` ready at ``at_s``; None when there is none."""
        found = self.routes(source, dest, at_s, 1, bundle_bits)
        return found[0] if found else None

    def routes(self, source: int, dest: int, at_s: float = 0.0, k: int = 1, bundle_bits: float = 0.0) -> list[Route]:
        """Up to ``k`` loop-free routes in SABR's rank order (Yen's algorithm over contacts)."""
        if not 1 <= k <= 1000:
            raise InputError(f"k must be 1 to 1000 routes, got {k}")
        s, d = self.node(source), self.node(dest)
        if s == d:
            raise InputError(f"source and destination are the same node ({source})")
        p = self.plan
        start = self._starts(s, at_s)
        path, _ = self._search(start, s, d, at_s, bundle_bits, np.zeros(len(p), np.bool_),
                               np.zeros(len(self.node_ids), np.bool_))
        if not path:
            return []
        first = self._route(start, path, at_s, bundle_bits)
        found, seen, candidates = [first], {first.contacts}, []
        while len(found) < k:
            last = found[-1].contacts
            for i in range(len(last)):
                root = last[:i]
                no_contact = np.zeros(len(p), np.bool_)
                for r in found:
                    if r.contacts[:i] == root and len(r.contacts) > i:
                        no_contact[r.contacts[i]] = True
                no_node = np.zeros(len(self.node_ids), np.bool_)
                no_node[s] = i > 0
                for c in root[:-1]:
                    no_node[self.to[c]] = True
                spur = s if i == 0 else int(self.to[root[-1]])
                t = self._route(start, root, at_s, bundle_bits).delivery_s if root else at_s
                tail, _ = self._search(start, spur, d, t, bundle_bits, no_contact, no_node)
                if tail and root + tail not in seen:
                    seen.add(root + tail)
                    route = self._route(start, root + tail, at_s, bundle_bits)
                    heapq.heappush(candidates, (route.rank(), route.contacts, route))
            if not candidates:
                break
            found.append(heapq.heappop(candidates)[2])
        return found


@njit(cache=True)
def _dijkstra(frm, to, start, end, rate, owlt, residual, by_sender, first, source, dest, at, bundle, no_contact,
              no_node):
    """SABR's best route to ``dest`` (dense node indices) leaving ``source`` at ``at`` (s): its
    contacts and delivery time (inf when there is none). Contacts and nodes flagged in
    ``no_contact``/``no_node`` are not used.

    A label-setting Dijkstra over (arrival, hops) labels, popped in (arrival, hops, -termination)
    order: a label at a node is kept only if no label with as few hops arrived as early (Pareto
    labels; arrival over a contact never decreases with the arrival at its sender, so a dominated
    label never completes a better route, and a cycle only adds hops). The first label reaching
    ``dest`` is the earliest delivery with the fewest hops, the later termination breaking ties
    among labels of equal arrival and hops.

    Units: ``start``, ``end``, ``owlt``, ``at`` s; ``rate`` bit/s; ``residual``, ``bundle`` bits;
    the contact arrays per contact, ``by_sender``/``first`` a CSR index of contacts by sender."""
    n = first.size - 1
    cap = 4 * n + 16
    node = np.empty(cap, np.int64)
    prev = np.empty(cap, np.int64)
    via = np.empty(cap, np.int64)
    settled = np.full((n, n + 1), np.inf)      # least arrival settled at a node with at most h hops
    pushed = np.full((n, n + 1), np.inf)       # least arrival queued at a node with at most h hops
    node[0], prev[0], via[0] = source, -1, -1
    count = np.int64(1)                        # not a constant: the heap compiles for int64 once
    pushed[source, :] = at
    heap = np.empty((cap, 4))
    heap[0, 0], heap[0, 1], heap[0, 2], heap[0, 3] = at, 0.0, -np.inf, 0.0
    size = np.int64(1)
    while size > 0:
        t, hops, neg_term, labelled = pop(heap, size)
        size -= 1
        h, label = int(hops), int(labelled)
        u = node[label]
        if settled[u, h] <= t:
            continue
        for k in range(h, n + 1):
            if settled[u, k] > t:
                settled[u, k] = t
        if u == dest:
            path = np.zeros(h, np.int64)
            for k in range(h - 1, -1, -1):
                path[k] = via[label]
                label = prev[label]
            return path, t
        if h == n:
            continue
        for j in range(first[u], first[u + 1]):
            c = by_sender[j]
            v = to[c]
            if no_node[v] or no_contact[c] or end[c] <= t:
                continue
            begin = max(t, start[c])
            if residual[c] < bundle or rate[c] * (end[c] - begin) < bundle:
                continue
            arrive = begin + bundle / rate[c] + owlt[c]
            if pushed[v, h + 1] <= arrive and not (pushed[v, h + 1] == arrive and -min(-neg_term, end[c]) < neg_term):
                continue
            if count == cap:
                cap *= 2
                node = np.concatenate((node, np.empty(cap - count, np.int64)))
                prev = np.concatenate((prev, np.empty(cap - count, np.int64)))
                via = np.concatenate((via, np.empty(cap - count, np.int64)))
            node[count], prev[count], via[count] = v, label, c
            for k in range(h + 1, n + 1):
                if pushed[v, k] > arrive:
                    pushed[v, k] = arrive
            heap = push(heap, size, arrive, float(h + 1), -min(-neg_term, end[c]), count)
            size += 1
            count += 1
    return np.zeros(0, np.int64), np.inf


@dataclass(frozen=True)
class Routes:
    """Routes of one query (``l4station route``), in SABR's rank order."""

    plan: ContactPlan
    source: int
    dest: int
    at_s: float
    found: list[Route]

    def to_json(self) -> dict:
        return {"routes": [r.to_json(self.plan) for r in self.found]}

    def __rich__(self):
        from l4station import tables
        p = self.plan
        title = f"Routes from {p.name(self.source)} to {p.name(self.dest)} at +{self.at_s:g} s (SABR rank order)"
        if not self.found:
            return f"{title}: none (no chain of contacts reaches it)"
        rows = [[str(k + 1), p.name(p.to[r.contacts[0]]),
                 " -> ".join([p.name(p.frm[r.contacts[0]])] + [p.name(p.to[c]) for c in r.contacts]),
                 f"{r.delivery_s:.6g}", f"{r.delivery_s - self.at_s:.6g}", f"{r.volume_bits:.4g}"]
                for k, r in enumerate(self.found)]
        return tables.table(title, ["#", "Next hop", "Path", "Delivery (s)", "Latency (s)", "Volume (bit)"], rows)


def query(plan: ContactPlan, source: int, dest: int, at_s: float = 0.0, k: int = 1, bundle_bits: float = 0.0) -> Routes:
    """The ``k`` best routes from ``source`` to ``dest`` for a bundle ready at ``at_s``."""
    if not np.isfinite(at_s):
        raise InputError(f"the query time must be a finite number of seconds, got {at_s}")
    if not (np.isfinite(bundle_bits) and bundle_bits >= 0):
        raise InputError(f"the bundle size must be zero or more bits, got {bundle_bits}")
    return Routes(plan, source, dest, at_s, Router(plan).routes(source, dest, at_s, k, bundle_bits))
