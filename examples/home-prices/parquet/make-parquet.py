"""Writes api-listings.json as Parquet twice, Snappy- and ZSTD-compressed, in row groups of 30:
fixtures for keel's parquet source (nested structs, int64, timestamps, two codecs).

    python3 -m venv /tmp/pa && /tmp/pa/bin/pip install pyarrow
    /tmp/pa/bin/python examples/home-prices/parquet/make-parquet.py
"""
import datetime
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

here = pathlib.Path(__file__).parent
records = json.loads((here.parent / "api-listings.json").read_text())
for r in records:
    r["updated"] = datetime.datetime.fromisoformat(r["updated"].replace("Z", "+00:00"))
table = pa.Table.from_pylist(records)
for codec in ("snappy", "zstd"):
    pq.write_table(table, here / f"api-listings-{codec}.parquet", compression=codec, row_group_size=30)
    meta = pq.ParquetFile(here / f"api-listings-{codec}.parquet").metadata
    print(codec, meta.num_rows, "rows", meta.num_row_groups, "row groups", meta.row_group(0).column(0).compression)
print(table.schema)
