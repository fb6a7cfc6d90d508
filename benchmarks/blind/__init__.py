"""A blind world generator and its evaluation (issue 15).

Written apart from the detectors and from ``graphiff/samples/drawn``: only the input contract,
the family table and thresholds of docs/typologies.md and the public typologies were read.
Nobody tunes against it; its figures say how the detectors fare on another author's reading of
the same typologies.
"""
