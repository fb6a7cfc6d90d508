// Delete up to $batch nodes of a label and their relationships (repeated until none is left).
MATCH (n:{label})
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS n
