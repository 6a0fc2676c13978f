"""Private structural-equation engine behind :mod:`ipo_research.analysis.factor`.

Not public API.  ``spec`` turns a factor model into LISREL-style parameter
matrices (lavaan's conventions), ``ml`` fits them by maximum likelihood and
``measures`` computes the fit measures exactly as lavaan 0.6 reports them.
"""
