// Roll back a unit, last step: drop its marker (its staging records are gone).
MATCH (u:_Unit {unit: $unit})
DELETE u
