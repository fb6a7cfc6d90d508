// The entries of chain $name after $since, in order.
MATCH (e:_CaseChain {name: $name})
WHERE e.seq > $since
RETURN e.body AS body
ORDER BY e.seq
