"""Reference for bench:features: the same point-in-time windowed aggregates with DuckDB's ASOF JOIN.

A window (a - w, a] as of a = t - lag is a difference of cumulative sums: cum(<= a) - cum(<= a - w).
Cumulative sums per entity use a RANGE frame, so events at the same time share one value (a tie
at the boundary counts, as in keel). Each cumulative value is found with an ASOF JOIN.

argv: events.csv (origin,route,t,delay), lag_ms, out.bin. Writes float64 columns in query order:
origin_rate_7d, origin_mean_28d, route_rate_7d, route_mean_28d (NaN: empty window). Prints the
seconds of the computation (the CSV load is not timed) as JSON.
"""
import json
import sys
import time

import duckdb
import numpy as np

events_csv, lag_ms, out_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
DAY = 86_400_000.0
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute(f"CREATE TABLE ev AS SELECT row_number() OVER () - 1 AS id, origin, route, t::DOUBLE AS t, delay::DOUBLE AS delay FROM read_csv('{events_csv}', header=true, columns={{'origin':'VARCHAR','route':'VARCHAR','t':'DOUBLE','delay':'DOUBLE'}})")

started = time.perf_counter()
cols = []
for key in ("origin", "route"):
    con.execute(f"""
        CREATE OR REPLACE TABLE cum_{key} AS
        SELECT DISTINCT {key} AS k, t,
          (count(*) OVER w)::DOUBLE AS n, sum(delay) OVER w AS s, (sum((delay > 15)::INT) OVER w)::DOUBLE AS late
        FROM ev WINDOW w AS (PARTITION BY {key} ORDER BY t RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)""")
    result = con.execute(f"""
        WITH q AS (SELECT id, {key} AS k, t - {lag_ms} AS a, t - {lag_ms} - {7 * DAY} AS a7, t - {lag_ms} - {28 * DAY} AS a28 FROM ev)
        SELECT q.id,
          hi.n AS n, hi.s AS s, hi.late AS late,
          lo7.n AS n7, lo7.late AS late7,
          lo28.n AS n28, lo28.s AS s28
        FROM q
        ASOF LEFT JOIN cum_{key} hi ON q.k = hi.k AND q.a >= hi.t
        ASOF LEFT JOIN cum_{key} lo7 ON q.k = lo7.k AND q.a7 >= lo7.t
        ASOF LEFT JOIN cum_{key} lo28 ON q.k = lo28.k AND q.a28 >= lo28.t
        ORDER BY q.id""").fetchnumpy()
    def filled(name):
        values = result[name]
        return np.ma.filled(values.astype(float), 0.0) if isinstance(values, np.ma.MaskedArray) else np.nan_to_num(values.astype(float), nan=0.0)

    n, s, late = filled("n"), filled("s"), filled("late")
    n7, late7, n28, s28 = filled("n7"), filled("late7"), filled("n28"), filled("s28")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate7 = np.where(n - n7 > 0, (late - late7) / (n - n7), np.nan)
        mean28 = np.where(n - n28 > 0, (s - s28) / (n - n28), np.nan)
    cols += [rate7, mean28]
seconds = time.perf_counter() - started
np.stack(cols).astype("<f8").tofile(out_path)
print(json.dumps({"duckdb_s": seconds, "duckdb_version": duckdb.__version__}))
