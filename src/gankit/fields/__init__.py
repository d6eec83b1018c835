"""Microstructures and geological fields: a spatial GAN of two-phase media and facies (docs/microstructures.md).

sources.py       training images: two-phase fields (int8, 1 = pore / sand / channel) drawn from named sources
                 (blobs, the Boolean model of disks, thresholded Gaussian random fields, sinuous channels),
                 deterministic by seed (`draw_fields`)
statistics.py    the statistics a field is judged by: porosity, two-point correlation S2(r), the lineal-path
                 function L(r), the variogram, the percolating share of a phase, specific surface
spatial.py       the players: a fully convolutional generator of a latent field, a fully convolutional critic
game.py          the game between them (kinds/fields.py builds it from `game: fields`)
data.py          a run's real fields: training images and independent realizations
conditioning.py  porosity targets and observed cells honoured by latent optimization; points files
protocols.py     curve and scalar protocols vs training images and independent realizations, power spectra
evaluate.py      a generator scored under every protocol (gankit eval, the training-time evaluator)
workflow.py      `gankit fields RUN`: the table, the figures (figures.py) and a wells file
"""
