"""Pure logic: ARI compression, revision ordering, mapping decisions; no await, no I/O."""
