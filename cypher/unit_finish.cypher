// Last step of publishing: record the load (when the unit has a load record) and drop the marker.
MATCH (u:_Unit {unit: $unit})
FOREACH (_ IN CASE WHEN u.info IS NULL THEN [] ELSE [1] END |
  MERGE (l:_Load {load_id: u.load_id})
  SET l.info = u.info)
DELETE u
