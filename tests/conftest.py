"""Fixtures shared by the test modules."""

import os
import subprocess

import pytest
import torch

from gankit.cli import main

if os.environ.get("PYTEST_XDIST_WORKER"):  # one thread per worker (and per CLI it starts): workers fill the cores
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)


@pytest.fixture
def gankit(capfd):
    """Run the CLI in this process (fast); returns an object like subprocess.run's."""

    def run(*args):
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run
