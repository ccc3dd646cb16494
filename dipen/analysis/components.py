"""Strongly connected components of a state graph, for home states and reversibility."""

from __future__ import annotations

__all__ = ["components"]


def components(successors: list[list[int]]) -> list[int]:
    """The strongly connected component number of every node of a graph given as successor
    lists (Tarjan's algorithm, iterative, so deep graphs do not hit the recursion limit).

    Examples
    --------
    >>> from dipen.analysis.components import components
    >>> components([[1], [0], [1, 3], []])
    [0, 0, 2, 1]
    """
    count = len(successors)
    order = [-1] * count
    low = [0] * count
    component = [-1] * count
    stack: list[int] = []
    on_stack = [False] * count
    counter = components = 0
    for root in range(count):
        if order[root] >= 0:
            continue
        work = [(root, 0)]
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            node, position = work[-1]
            targets = successors[node]
            if position < len(targets):
                work[-1] = (node, position + 1)
                target = targets[position]
                if order[target] < 0:
                    order[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack[target] = True
                    work.append((target, 0))
                elif on_stack[target] and order[target] < low[node]:
                    low[node] = order[target]
                continue
            work.pop()
            if work and low[node] < low[work[-1][0]]:
                low[work[-1][0]] = low[node]
            if low[node] == order[node]:
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component[member] = components
                    if member == node:
                        break
                components += 1
    return component
