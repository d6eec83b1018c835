"""Sample pictures: grid layout and pixel mapping, scatter plots."""

import numpy as np
import torch
from PIL import Image

from gankit.viz import image_grid, save_image_grid, save_scatter


def test_grid_places_each_image_and_maps_minus_one_to_black():
    images = torch.full((3, 1, 2, 2), -1.0)
    images[1] = 1.0
    images[2] = 0.0
    grid = image_grid(images, nrow=2, padding=1)
    assert grid.shape == (1 + 2 * 3, 1 + 2 * 3)
    assert (grid[1:3, 1:3] == 0).all()  # first image, black
    assert (grid[1:3, 4:6] == 255).all()  # second, white
    assert (grid[4:6, 1:3] == 128).all()  # third, mid grey (0 -> 127.5 rounds to 128)
    assert (grid[4:6, 4:6] == 0).all()  # empty slot stays padding-black


def test_rgb_grid_keeps_channels():
    images = torch.zeros(1, 3, 2, 2)
    images[0, 0] = 1.0  # pure red in [-1,1] terms: R=1, G=B=0 -> (255,128,128)
    grid = image_grid(images, padding=0)
    assert grid.shape == (2, 2, 3)
    assert tuple(grid[0, 0]) == (255, 128, 128)


def test_saved_png_matches_the_grid(tmp_path):
    images = torch.rand(4, 1, 3, 3) * 2 - 1
    save_image_grid(images, tmp_path / "g.png", nrow=2, scale=1)
    loaded = np.array(Image.open(tmp_path / "g.png"))
    np.testing.assert_array_equal(loaded, image_grid(images, nrow=2))


def test_scatter_is_written(tmp_path):
    save_scatter(torch.randn(100, 2), tmp_path / "s.png", means=np.zeros((1, 2)), title="t")
    assert Image.open(tmp_path / "s.png").size[0] > 100
