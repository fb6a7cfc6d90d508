// Units killed while publishing: committed, partly visible; completed when the store is opened.
MATCH (u:_Unit {state: "publishing"})
RETURN u.unit AS unit
