// Number of nodes of any label, bookkeeping and case book included (answered from the count
// store): a bulk import replaces the whole database, so it needs this to be 0.
MATCH (n)
RETURN count(n) AS n
