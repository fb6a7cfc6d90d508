"""Column mappings: YAML files that map another layout (an administration's own extract) onto
the canonical columns of one file kind.

```yaml
kind: declarations                 # the canonical file kind
match: ["df_syn_*.csv"]            # file names (globs) this mapping applies to
columns:                           # canonical column -> source
  declaration_id: Declaration ID              # a source column
  flow: {value: IMPORT}                       # a constant
  date: {column: Date, date_format: "%d/%m/%Y"}   # a date in another format
  hs_code: {column: HS6 Code, transform: [strip, "zfill:6"]}
  exporter_name: {template: "Seller {Seller ID}"}  # several columns
keep_unmapped: true                # other source columns stay as properties (snake_case names)
```

Transforms: strip, upper, lower, digits (keep digits only), ``zfill:N``, ``prefix:TEXT``,
``replace:OLD:NEW``, ``scale:FACTOR`` (multiply a number). A mapping that names an unknown file
kind, canonical column, source column or transform is fatal (:class:`InvalidMapping`).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from graphiff.errors import InvalidMapping
from graphiff.model import model

_TRANSFORM = re.compile(r"^(strip|upper|lower|digits|zfill:\d+|prefix:.*|replace:[^:]*:.*|scale:[-+0-9.eE]+)$")


def snake(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower() or "column"


@dataclass
class ColumnRule:
    target: str
    column: str | None = None
    value: Any = None
    template: str | None = None
    date_format: str | None = None
    transforms: list[str] = field(default_factory=list)


@dataclass
class Mapping:
    kind: str
    match: list[str]
    rules: list[ColumnRule]
    keep_unmapped: bool
    source: str

    def applies_to(self, path: Path) -> bool:
        return any(fnmatch.fnmatch(path.name, pat) for pat in self.match)

    def source_columns(self) -> set[str]:
        cols = {r.column for r in self.rules if r.column}
        for r in self.rules:
            if r.template:
                cols.update(re.findall(r"\{([^}]+)\}", r.template))
        return cols

    def check_columns(self, file: str, header: list[str]) -> None:
        """Fatal when the file lacks a source column the mapping names."""
        for col in sorted(self.source_columns()):
            if col not in header:
                raise InvalidMapping(f"mapping {self.source} names source column {col!r}, which the file lacks",
                                     file=file, column=col)

    def output_columns(self, header: list[str]) -> list[tuple[str, str]]:
        """The columns :meth:`apply` makes from a file with ``header``: ``(name, source)`` pairs,
        the canonical targets first (source: the mapping's rule), then the kept unmapped
        columns under their snake_case names."""
        out = {r.target: r.column or r.template or "(constant)" for r in self.rules}
        if self.keep_unmapped:
            used = self.source_columns()
            for c in header:
                if c not in used:
                    out.setdefault(snake(c), c)
        return list(out.items())

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the frame in canonical columns (strings), plus kept unmapped columns."""
        out: dict[str, pd.Series] = {}
        for r in self.rules:
            if r.column is not None:
                s = frame[r.column].astype(object)
            elif r.template is not None:
                s = pd.Series([r.template.format_map(row) for row in frame.to_dict("records")],
                              index=frame.index, dtype=object)
            else:
                s = pd.Series([("" if r.value is None else str(r.value))] * len(frame), index=frame.index, dtype=object)
            s = s.astype("string").fillna("")
            for t in r.transforms:
                s = _apply_transform(s, t)
            if r.date_format:
                parsed = pd.to_datetime(s.where(s != ""), format=r.date_format, errors="coerce")
                s = parsed.dt.strftime("%Y-%m-%d").fillna(s)  # unparseable stays raw -> quarantined as bad date
            out[r.target] = s.astype(object)
        if self.keep_unmapped:
            used = self.source_columns()
            for c in frame.columns:
                if c not in used:
                    name = snake(c)
                    if name not in out:
                        out[name] = frame[c]
        return pd.DataFrame(out, index=frame.index)


def _apply_transform(s: pd.Series, t: str) -> pd.Series:
    if t == "strip":
        return s.str.strip()
    if t == "upper":
        return s.str.upper()
    if t == "lower":
        return s.str.lower()
    if t == "digits":
        return s.str.replace(r"\D", "", regex=True)
    if t.startswith("zfill:"):
        return s.where(s == "", s.str.zfill(int(t[6:])))
    if t.startswith("prefix:"):
        return s.where(s == "", t[7:] + s)
    if t.startswith("replace:"):
        _, old, new = t.split(":", 2)
        return s.str.replace(old, new, regex=False)
    if t.startswith("scale:"):
        num = pd.to_numeric(s.where(s != ""), errors="coerce") * float(t[6:])
        return num.map(lambda v: "" if pd.isna(v) else repr(float(v))).where(num.notna() | (s == ""), s)
    raise AssertionError(t)


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; any problem is an :class:`InvalidMapping` naming it."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidMapping(f"cannot read mapping: {str(exc).replace('<unicode string>', p.name)}",
                             file=p.name) from None
    if not isinstance(raw, dict):
        raise InvalidMapping("a mapping is a YAML object with kind, match and columns", file=p.name)
    unknown = sorted(set(raw) - {"kind", "match", "columns", "keep_unmapped"})
    if unknown:
        raise InvalidMapping(f"unknown mapping key {unknown[0]!r} (known: kind, match, columns, keep_unmapped)",
                             file=p.name, column=str(unknown[0]))
    kind = raw.get("kind")
    canonical = model().canonical_columns
    if kind not in canonical:
        raise InvalidMapping(f"unknown file kind {kind!r} (known: {', '.join(canonical)})", file=p.name,
                             column="kind")
    assert isinstance(kind, str)  # a key of the canonical columns
    match = raw.get("match") or ["*"]
    match = [match] if isinstance(match, str) else list(match)
    cols = raw.get("columns")
    if not isinstance(cols, dict) or not cols:
        raise InvalidMapping("'columns' must map canonical columns to sources", file=p.name, column="columns")
    rules = []
    for target, spec in cols.items():
        if target not in canonical[kind]:
            raise InvalidMapping(f"unknown {kind} field {target!r}", file=p.name, column=str(target))
        rules.append(_rule(p.name, target, spec))
    required = set(model().files[kind].required)
    missing = sorted(required - {r.target for r in rules})
    if missing:
        raise InvalidMapping(f"mapping gives no source for required field {missing[0]!r}", file=p.name,
                             column=missing[0])
    return Mapping(kind, match, rules, bool(raw.get("keep_unmapped", True)), p.name)


def _rule(file: str, target: str, spec: Any) -> ColumnRule:
    if isinstance(spec, str):
        return ColumnRule(target, column=spec)
    if not isinstance(spec, dict):
        raise InvalidMapping(f"bad rule for {target!r}", file=file, column=target)
    unknown = set(spec) - {"column", "value", "template", "date_format", "transform"}
    if unknown:
        raise InvalidMapping(f"unknown rule key {sorted(unknown)[0]!r}", file=file, column=target)
    sources = [k for k in ("column", "value", "template") if k in spec]
    if len(sources) != 1:
        raise InvalidMapping("a rule takes exactly one of column, value, template", file=file, column=target)
    transforms = spec.get("transform") or []
    transforms = [transforms] if isinstance(transforms, str) else list(transforms)
    for t in transforms:
        if not _TRANSFORM.match(str(t)):
            raise InvalidMapping(f"unknown transform {t!r}", file=file, column=target)
    return ColumnRule(target, column=spec.get("column"), value=spec.get("value"), template=spec.get("template"),
                      date_format=spec.get("date_format"), transforms=[str(t) for t in transforms])
