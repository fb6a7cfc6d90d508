// Delete up to $batch relationships of a type (repeated until none is left); nodes stay.
MATCH ()-[r:{type}]->()
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS n
