// Empty the database, step 1: every relationship, in batches (auto-commit transaction).
MATCH ()-[r]->()
CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS
