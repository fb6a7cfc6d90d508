// A staging record was applied (in the same transaction): remove it.
MATCH (s:_Stage {unit: $unit, seq: $seq})
DELETE s
