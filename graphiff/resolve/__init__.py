"""Entity resolution: the same trader, person, carrier or bank account under other ids and
spellings (``graphiff resolve``). Candidate pairs by blocking, scored with evidence per pair,
written back as ``SAME_AS`` relationships; analyst judgements kept and replayed on every run.
How the graph reads the result (clusters, the resolved view) is :mod:`graphiff.graph.resolution`.
"""
