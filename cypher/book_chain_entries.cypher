// The entries of chain $name after $since, in order (read in the order of the (name, seq) index).
MATCH (e:_CaseChain)
WHERE e.name = $name AND e.seq > $since
RETURN e.body AS body
ORDER BY e.name, e.seq
