// One relationship per statement: the naive way, used only by benchmarks/bench_neo4j.py.
MERGE (a:{src} {key: $src})
MERGE (b:{dst} {key: $dst})
MERGE (a)-[r:{type} {rid: $rid}]->(b)
SET r += $props
