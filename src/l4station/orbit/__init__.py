"""Getting to L4 and staying there: restricted three-body problem, transfers, propagation."""
