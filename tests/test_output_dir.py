"""A workflow's output directory: refused when it holds anything, removed (or emptied) again on failure."""

import pytest

from gankit.errors import ConfigError
from gankit.output_dir import check_output_dir, removed_on_failure


def test_a_non_empty_directory_or_a_file_is_refused(tmp_path):
    check_output_dir(tmp_path / "new")
    check_output_dir(tmp_path)  # empty
    (tmp_path / "kept.txt").write_text("x")
    for out in (tmp_path, tmp_path / "kept.txt"):
        with pytest.raises(ConfigError, match="already exists and is not an empty directory"):
            check_output_dir(out)


def test_a_failure_removes_a_new_directory_and_empties_an_existing_one(tmp_path):
    new, empty = tmp_path / "new", tmp_path / "empty"
    empty.mkdir()
    for out in (new, empty):
        with pytest.raises(KeyboardInterrupt), removed_on_failure(out):
            (out / "sub").mkdir(parents=True)
            (out / "sub" / "half.npz").write_bytes(b"x")
            (out / "table.md").write_text("x")
            raise KeyboardInterrupt
    assert not new.exists() and empty.is_dir() and not any(empty.iterdir())
    with removed_on_failure(new):
        new.mkdir()
        (new / "done.md").write_text("x")
    assert (new / "done.md").is_file()  # success keeps everything
