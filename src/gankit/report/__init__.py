"""Run reports (`gankit report`: one self-contained HTML page) and run comparison (`gankit compare`)."""

from gankit.report.compare import Comparison, compare_runs
from gankit.report.html import ReportSummary, write_report
from gankit.report.reading import NotARunError, RunData, read_run

__all__ = ["Comparison", "compare_runs", "ReportSummary", "write_report", "NotARunError", "RunData", "read_run"]
