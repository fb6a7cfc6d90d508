"""The Spark session graphiff runs in: ``local[*]`` by default, a cluster with a master URL."""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from graphiff.errors import GraphiffError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: settings every graphiff session gets (a caller's ``conf`` overrides them)
DEFAULT_CONF = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "16",
    "spark.sql.adaptive.enabled": "true",
}


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None,
                  app_name: str = "graphiff") -> "SparkSession":
    """A Spark session on ``master`` (``local[*]`` when None; ``local[2]``, ``spark://host:7077``,
    ``yarn``...) with :data:`DEFAULT_CONF` and ``conf`` (e.g. ``{"spark.executor.memory": "8g"}``).

    Executors run this interpreter's Python (``PYSPARK_PYTHON``, unless set), so graphiff and its
    dependencies must be installed the same way on every worker of a cluster. Without pyspark,
    raises :class:`GraphiffError` saying how to install it. Cost: starting a JVM (seconds).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise GraphiffError("--engine spark needs pyspark: pip install 'graphiff[spark]' (Java 17 or 21 too)") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
    builder = SparkSession.builder.master(master or "local[*]").appName(app_name)
    logging = f"-Dlog4j2.configurationFile={(Path(__file__).parent / 'log4j2.properties').as_uri()}"
    quiet = {"spark.driver.extraJavaOptions": logging, "spark.executor.extraJavaOptions": logging}
    for key, value in {**DEFAULT_CONF, **quiet, **dict(conf or {})}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM gateway raises plain Exceptions (no Java, bad master...)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GraphiffError(f"cannot start Spark on {master or 'local[*]'}: {first}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def active_session() -> "SparkSession | None":
    """The Spark session already running in this process (None without one, or without pyspark)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def parse_conf(items: list[str]) -> dict[str, str]:
    """``["spark.executor.memory=8g", ...]`` -> ``{"spark.executor.memory": "8g"}``.

    >>> parse_conf(["spark.executor.memory=8g"])
    {'spark.executor.memory': '8g'}
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise GraphiffError(f"--spark-conf expects key=value, not {item!r}")
        out[key.strip()] = value.strip()
    return out
