// Open a unit of work (Store.atomic) on the Neo4j store: one :_Unit marker per run of a load,
// in state "staging" while its writes are kept as :_Stage records (invisible to every read).
CREATE (u:_Unit {unit: $unit, load_id: $load_id, state: "staging", started: $started})
