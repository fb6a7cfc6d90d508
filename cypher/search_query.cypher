// Full-text search (graphiff/search/neo4j.py): the nodes of $labels that the index
// graphiff_search finds for the Lucene query $query, best first (the procedure yields them in
// score order), at most $limit. The query is always a parameter, never part of this text.
CALL db.index.fulltext.queryNodes('graphiff_search', $query) YIELD node, score
WITH node, score, [l IN labels(node) WHERE l IN $labels] AS hit
WHERE size(hit) > 0
RETURN hit[0] AS label, node.key AS key, score
LIMIT $limit
