"""Microstructures and geological fields (issue 21, in progress).

statistics.py   the statistics a field is judged by: porosity, two-point correlation S2(r), the variogram, the
                percolating share of a phase, specific surface
"""
