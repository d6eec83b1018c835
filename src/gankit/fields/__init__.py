"""Microstructures and geological fields (issue 21, in progress).

sources.py      training images: two-phase fields (int8, 1 = pore / sand / channel) drawn from named sources
                (blobs, the Boolean model of disks, thresholded Gaussian random fields, sinuous channels),
                deterministic by seed (`draw_fields`)
statistics.py   the statistics a field is judged by: porosity, two-point correlation S2(r), the lineal-path
                function L(r), the variogram, the percolating share of a phase, specific surface
"""
