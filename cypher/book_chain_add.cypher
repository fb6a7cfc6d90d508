// Append entries to chain $name ($rows: [{seq, body}]).
UNWIND $rows AS r
CREATE (:_CaseChain {name: $name, seq: r.seq, body: r.body})
