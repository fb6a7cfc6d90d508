// The next staging record of a unit being published, in write order. Writing to the marker
// first locks the unit, so two processes publishing it (one rolling it forward) apply each
// record once and in order.
MATCH (u:_Unit {unit: $unit})
SET u.applied = coalesce(u.applied, 0) + 1
WITH u
MATCH (s:_Stage {unit: $unit})
WITH s ORDER BY s.seq LIMIT 1
RETURN s.seq AS seq, s.stmt AS stmt, s.names AS names, s.rows AS rows
