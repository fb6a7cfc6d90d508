// Number of relationships of a type (answered from the count store).
MATCH ()-[r:{type}]->()
RETURN count(r) AS n
