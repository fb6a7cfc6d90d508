// Empty the database, step 2: every node, graph and bookkeeping alike (auto-commit transaction).
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS
