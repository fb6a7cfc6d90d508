// Roll back a unit: delete up to $batch of its staging records (repeated until none is left).
MATCH (s:_Stage {unit: $unit})
WITH s LIMIT $batch
DELETE s
RETURN count(*) AS n
