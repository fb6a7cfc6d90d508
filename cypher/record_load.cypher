// Remember one load; the same load id again replaces what was recorded.
MERGE (l:_Load {load_id: $load_id})
SET l.info = $info
