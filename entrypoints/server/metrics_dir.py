"""prometheus_client's multiprocess mode for ``keymanager serve``: one empty directory per server start, shared
by the workers (each writes its own files; a scrape adds them up). Must run before anything imports
prometheus_client, which reads PROMETHEUS_MULTIPROC_DIR once at import: this module imports nothing of ours
beyond the settings."""
from __future__ import annotations

import os
import shutil

from ..settings import Settings

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(settings: Settings) -> None:
    """An operator's own PROMETHEUS_MULTIPROC_DIR is kept as it is."""
    if os.environ.get(VARIABLE):
        return
    directory = settings.data_dir / "metrics"
    shutil.rmtree(directory, ignore_errors=True)  # the last run's figures are not this run's
    directory.mkdir(parents=True, mode=0o700)
    os.environ[VARIABLE] = str(directory)
