"""Fixtures shared by the test modules."""

import subprocess

import pytest

from gankit.cli import main


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
