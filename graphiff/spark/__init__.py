"""Detectors on Apache Spark: the same definitions, run on parts of the graph in parallel.

``graphiff detect --engine spark`` reads a Parquet snapshot of the graph
(:mod:`graphiff.graph.snapshot`), cuts each detector family's records into parts that its
definition keeps independent (:mod:`graphiff.spark.parts`: declarations by goods, cash reports
by subject...), and runs the family's own function (the one the embedded engine runs) on every
part in Spark executors (:mod:`graphiff.spark.engine`). ``docs/scale.md`` is the operator's
guide.
"""
