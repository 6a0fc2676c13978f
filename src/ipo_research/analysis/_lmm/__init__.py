"""Private engine of :func:`ipo_research.analysis.mixed_model`.

``formula``  parses lme4 formulas and builds model matrices with R's names;
``deviance`` evaluates lme4's profiled (RE)ML deviance;
``fit``      optimises it and computes lmerTest's Satterthwaite df.
"""
