// Number of nodes of a label (answered from the count store).
MATCH (n:{label})
RETURN count(n) AS n
