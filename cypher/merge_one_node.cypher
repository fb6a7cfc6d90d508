// One node per statement: the naive way, used only by benchmarks/bench_neo4j.py to measure
// what batching (merge_nodes.cypher) gains.
MERGE (n:{label} {key: $key})
SET n += $props
