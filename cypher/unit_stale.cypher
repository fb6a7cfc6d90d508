// Units of this load id still "staging": left by an earlier run of the same input that was
// killed or is still running (their staging records are removed before the load runs again).
MATCH (u:_Unit {load_id: $load_id})
WHERE u.state = "staging"
RETURN u.unit AS unit
