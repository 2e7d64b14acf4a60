"""Reproduction of the papers: campaigns (the runs of one reproduction), the report that turns
results records into RESULTS.md, what the studies share (records), and one module per paper
study (studies/). The library below knows no paper; nothing below imports this package."""
