// Commit point of a unit: from now on it is published to the end (by this process, or by the
// next one to open the store if this one dies). $info: the load record to write last (or null).
MATCH (u:_Unit {unit: $unit})
WHERE u.state = "staging"
SET u.state = "publishing", u.info = $info
RETURN u.unit AS unit
