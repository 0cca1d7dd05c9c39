"""A plain-Python contact graph router written from the tutorial's description (Fraire, De
Jonckère & Burleigh 2021, Sec. 3): Dijkstra whose vertices are contacts, each carrying the nodes
of its own path, with no compilation and no node-level shortcut. The tests hold the project's
router to it; the routing benchmark times it beside the project's."""
import heapq
import math


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
