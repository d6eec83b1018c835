"""Shared by the CLI tests: what a user mistake must look like."""


def assert_user_error(result, *fragments):
    """Exit status 2, no traceback, exactly one `error:` line containing every fragment."""
    assert result.returncode == 2, result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
