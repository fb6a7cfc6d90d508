// Every recorded load (JSON text).
MATCH (l:_Load)
RETURN l.info AS info
