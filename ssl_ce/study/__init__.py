"""Studies: named runs (config overrides) x pretraining seeds, each trained or resumed, scored once per file
and options, and written as tables beside the command that re-makes them.

`ssl-ce report` and the benchmarks are study definitions plus their own recipe logic; everything they share
(the run loop, the scoring, the renderers) lives here once.
"""

from ssl_ce.study.command import command_line
from ssl_ce.study.runs import RUN_PICTURES, Study, keep_pictures, run_dir_name, train_or_resume
from ssl_ce.study.scoring import REFERENCE, Scored, Scores, psnr
from ssl_ce.study.tables import (
    TARGETS_HEADER,
    feature_table,
    margins_table,
    mean_std_table,
    realism_cells,
    target_rows,
    test_section,
    write_table,
)

__all__ = ["REFERENCE", "RUN_PICTURES", "TARGETS_HEADER", "Scored", "Scores", "Study", "command_line",
           "feature_table", "keep_pictures", "margins_table", "mean_std_table", "psnr", "realism_cells",
           "run_dir_name", "target_rows", "test_section", "train_or_resume", "write_table"]
