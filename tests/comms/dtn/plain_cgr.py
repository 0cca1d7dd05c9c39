"""A plain-Python contact graph router written from the tutorial's description (Fraire, De
Jonckère & Burleigh 2021, Sec. 3): Dijkstra whose vertices are contacts, each carrying the nodes
of its own path, with no compilation and no node-level shortcut. The tests hold the project's
router to it; the routing benchmark times it beside the project's."""
import heapq
import math

from hypothesis import strategies as st


def best_delivery(contacts, source, dest, at=0.0, bundle=0.0):
    """Earliest delivery time from ``source`` to ``dest``; ``contacts`` are tuples
    (frm, to, start, end, rate, owlt, residual). math.inf when unreachable."""
    out = {}
    for k, c in enumerate(contacts):
        out.setdefault(c[0], []).append(k)
    arrival = {}
    heap = [(at, 0, -1, frozenset([source]), source)]
    done = set()
    while heap:
        t, hops, k, path, node = heapq.heappop(heap)
        if k in done:
            continue
        done.add(k)
        if node == dest:
            return t
        for j in out.get(node, ()):
            frm, to, start, end, rate, owlt, residual = contacts[j]
            if j in done or to in path or end <= t:
                continue
            begin = max(t, start)
            if residual < bundle or rate * (end - begin) < bundle:
                continue
            arrive = begin + bundle / rate + owlt
            if arrive < arrival.get(j, math.inf):
                arrival[j] = arrive
                heapq.heappush(heap, (arrive, hops + 1, j, path | {to}, to))
    return math.inf


def all_routes(contacts, source, dest, at=0.0, bundle=0.0):
    """Every loop-free route by depth-first search, as (delivery, hops, -termination, contacts)."""
    found = []

    def walk(node, t, path_nodes, used):
        if node == dest:
            found.append((t, len(used), -min(contacts[c][3] for c in used), tuple(used)))
            return
        for j, (frm, to, start, end, rate, owlt, residual) in enumerate(contacts):
            if frm != node or to in path_nodes or end <= t:
                continue
            begin = max(t, start)
            if residual < bundle or rate * (end - begin) < bundle:
                continue
            walk(to, begin + bundle / rate + owlt, path_nodes | {to}, used + [j])

    walk(source, at, {source}, [])
    return sorted(found)


def contacts_strategy(nodes=5, most=14):
    """Random plans of up to ``most`` contacts among ``nodes`` nodes, no two of a pair overlapping."""
    contact = st.tuples(st.integers(1, nodes), st.integers(1, nodes), st.integers(0, 50), st.integers(1, 30),
                        st.sampled_from([1.0, 2.0, 5.0]), st.sampled_from([0.0, 0.5, 1.0, 3.0]))
    return st.lists(contact, min_size=1, max_size=most).map(
        lambda rows: _no_overlap([(f, t, s, s + d, r, o) for f, t, s, d, r, o in rows if f != t]))


def _no_overlap(rows):
    kept = []
    for r in rows:
        if all(not (k[0] == r[0] and k[1] == r[1] and k[2] < r[3] and r[2] < k[3]) for k in kept):
            kept.append(r)
    return kept
