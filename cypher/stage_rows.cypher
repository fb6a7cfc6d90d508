// The staged node batches of one label of a unit, in write order (the unit's reads see its
// own writes: the loader's lookups of keys, rates and declarations loaded earlier in the load).
MATCH (s:_Stage {unit: $unit})
WHERE s.label = $label
RETURN s.stmt AS stmt, s.rows AS rows
ORDER BY s.seq
