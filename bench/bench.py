#!/usr/bin/env python3
"""Benchmarks against a real PostgreSQL and the release binary (see BENCHMARKS.md).

  python3 bench/bench.py throughput [--rows 1000000]
      rows masked per second on a table with three masked text columns, beside
      UPDATE t SET a = md5(a), b = md5(b), c = md5(c) on an identical table, in the same run;
      and maskd's peak RSS (VmHWM) during the masking run.
  python3 bench/bench.py profile [--rows 100000 1000000]
      a profile job over the corpus of tests/corpus (4 tables, 55 columns of personal data and
      decoys) at each --rows per table, side by side in one run: the run's time (endTime -
      startTime) at each size and its ratio to the first (sampling keeps it flat), and recall and
      precision per kind against tests/corpus/truth.csv.
  python3 bench/bench.py onthefly [--rows 1000000]
      an on-the-fly job copying a table of --rows rows x 3 masked text columns from one database
      into another, beside a plain COPY TO STDOUT | COPY FROM STDIN round trip between the same two
      databases in the same run: rows/s of each, their ratio, and maskd's peak RSS (VmHWM) after
      each size (give several --rows to see whether it stays flat).
  python3 bench/bench.py chunks [--rows 1000000] [--workers 1 2 4] [--cancels 20]
      in-place masking of a table of --rows rows x 3 masked text columns split into chunks
      (MASKD_CHUNK_MIN_ROWS and MASKD_CHUNK_ROWS at their defaults unless set), by one instance
      with each --workers count and by two instances of one worker each, beside the in-DB md5
      UPDATE on an identical table, in the same run: rows/s of each, the ratios, maskd's peak RSS;
      then cancel-to-endTime (both PostgreSQL clocks) of --cancels runs cancelled while the most
      workers hold chunks, p50 and p99.
  python3 bench/bench.py latency [--runs 200]
      submit-to-RUNNING (startTime - submitTime) on an idle instance, and cancel-to-endTime
      (endTime - cancel time, both PostgreSQL clocks) for running jobs; p50 and p99.
  python3 bench/bench.py api [--rows 1000000] [--seconds 5] [--rounds 3] [--connections 8 32]
                             [--operations cancel GET submit]
      the HTTP API against pgbench running the equivalent statement, side by side in one run, in
      --rounds alternating runs of --seconds each (the ratio is of the rounds' mean rates):
      POST /executions/{id}/cancel?expectedStatus=QUEUED on random ids of --rows QUEUED executions
      against the guarded UPDATE, GET /executions/{id} against a point select, POST /executions
      against an INSERT; wrk (bench/wrk/*.lua) and pgbench -M prepared (bench/pgbench/*.sql) on a
      copy of the same rows; requests/s, p50/p99 latency, the ratios, and maskd's peak RSS.

Needs: target/release/maskd (cargo build --release; or --binary PATH, e.g. to compare two builds),
psql, a PostgreSQL at $BENCH_PG (default postgres://postgres@127.0.0.1:5432); for api, wrk and
pgbench. It checks for the tools it runs first, and says how to install the missing ones. Uses the
databases maskd_bench and maskd_bench_target (and, for onthefly, maskd_bench_source), which it drops
and re-creates.
"""
import argparse, json, os, re, shutil, signal, socket, statistics, subprocess, sys, time, urllib.request

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "maskd")

# The tools each benchmark runs, and where Debian has them.
TOOLS = {"throughput": ["psql"], "chunks": ["psql"], "latency": ["psql"], "profile": ["psql"], "onthefly": ["psql"],
         "api": ["psql", "wrk", "pgbench"]}
INSTALL = {"psql": "apt-get install postgresql-client",
           "pgbench": "apt-get install postgresql (Debian ships pgbench with the server)",
           "wrk": "apt-get install wrk"}


def check_tools(what):
    missing = [t for t in TOOLS[what] if shutil.which(t) is None]
    if missing:
        sys.exit(f"bench.py {what} needs " + ", ".join(missing) + ", not found on PATH. Install with:\n"
                 + "\n".join(f"  {INSTALL[t]}" for t in missing))


def psql(db, sql, quiet=True):
    out = subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def fresh_databases():
    for db in ("maskd_bench", "maskd_bench_target"):
        psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql("postgres", "CREATE DATABASE maskd_bench_target")


class Maskd:
    def __init__(self, workers=1, log_level="warn", env=None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, DATABASE_URL=f"{PG}/maskd_bench", MASKD_BIND=f"127.0.0.1:{self.port}",
                   MASKD_WORKERS=str(workers), MASKD_ADMIN_PASSWORD="bench", MASKD_SECRET_KEY="bench-key",
                   RUST_LOG=log_level, **(env or {}))
        os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
        self.log = open(os.path.join(ROOT, "target", "bench-maskd.log"), "w")
        self.proc = subprocess.Popen([BINARY, "serve"], env=env, stdout=self.log, stderr=self.log)
        self.base = f"http://127.0.0.1:{self.port}/masking/api"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz")
                break
            except Exception:
                time.sleep(0.1)
        self.token = self.call("POST", "/login", {"username": "admin", "password": "bench"})["Authorization"]

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Content-Type", "application/json")
        if getattr(self, "token", None):
            req.add_header("Authorization", self.token)
        with urllib.request.urlopen(req) as r:
            text = r.read()
            return json.loads(text) if text else None

    def peak_rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)

    def job_on(self, tables, options=None):
        """A job masking `tables` ({name: {column: algorithm}}) in maskd_bench_target."""
        rs = self.ruleset_of(tables)
        job = {"jobName": "bench", "rulesetId": rs, "feedbackSize": 50000,
               "databaseMaskingOptions": options or {"commitSize": 10000}}
        return self.call("POST", "/masking-jobs", job)["maskingJobId"]

    def connector(self, database, schema="public"):
        """A connector to `schema` of `database` on the benchmark's PostgreSQL; its id."""
        url = PG.split("://", 1)[1]
        user = url.split("@")[0].split(":")[0]
        host, port = url.split("@")[1].split(":")
        env = self.call("POST", "/environments", {"environmentName": f"e{time.time_ns()}", "applicationName": "bench"})
        c = self.call("POST", "/database-connectors", {
            "connectorName": database, "environmentId": env["environmentId"], "host": host, "port": int(port),
            "databaseName": database, "schemaName": schema, "username": user,
            "password": os.environ.get("PGPASSWORD", "unused")})
        return c["databaseConnectorId"]

    def ruleset_of(self, tables, schema="public"):
        """A ruleset on `tables` ({name: {column: algorithm}}) of maskd_bench_target; its id."""
        c = self.connector("maskd_bench_target", schema)
        rs = self.call("POST", "/database-rulesets", {"rulesetName": "rs", "databaseConnectorId": c})
        for table, columns in tables.items():
            t = self.call("POST", "/table-metadata", {"tableName": table, "rulesetId": rs["databaseRulesetId"]})
            cols = self.call("GET", f"/column-metadata?table_metadata_id={t['tableMetadataId']}")["responseList"]
            for col in cols:
                if col["columnName"] in columns:
                    self.call("PUT", f"/column-metadata/{col['columnMetadataId']}", {"algorithmName": columns[col["columnName"]]})
        return rs["databaseRulesetId"]

    def wait_end(self, execution_id):
        while True:
            e = self.call("GET", f"/executions/{execution_id}")
            if e["endTime"]:
                return e
            time.sleep(0.05)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def throughput(rows):
    fresh_databases()
    for t in ("masked", "by_sql"):
        psql("maskd_bench_target", f"CREATE TABLE {t} (id bigint PRIMARY KEY, a text, b text, c text)")
        psql("maskd_bench_target", f"INSERT INTO {t} SELECT g, 'first' || g, 'last' || (g % 9973), 'Full Name ' || g "
             f"FROM generate_series(1, {rows}) g")
    psql("maskd_bench_target", "VACUUM ANALYZE")
    started = time.monotonic()
    psql("maskd_bench_target", "UPDATE by_sql SET a = md5(a), b = md5(b), c = md5(c)")
    sql_secs = time.monotonic() - started
    maskd = Maskd(workers=1)
    job = maskd.job_on({"masked": {"a": "FirstNameLookup", "b": "LastNameLookup", "c": "FullNameLookup"}})
    e = maskd.call("POST", "/executions", {"jobId": job})
    e = maskd.wait_end(e["executionId"])
    run_secs = float(psql("maskd_bench", f"SELECT extract(epoch FROM end_time - start_time) FROM executions WHERE execution_id = {e['executionId']}"))
    rss = maskd.peak_rss_mb()
    maskd.stop()
    assert e["status"] == "SUCCEEDED", e
    sql_rate, maskd_rate = rows / sql_secs, rows / run_secs
    print(json.dumps({"rows": rows, "sql_md5_rows_per_s": round(sql_rate), "maskd_rows_per_s": round(maskd_rate),
                      "ratio": round(maskd_rate / sql_rate, 2), "maskd_peak_rss_mb": round(rss, 1)}))


def on_the_fly(sizes):
    """On-the-fly masking of --rows rows x 3 masked text columns from maskd_bench_source into
    maskd_bench_target, beside a plain COPY round trip (psql COPY TO STDOUT | psql COPY FROM STDIN)
    between the same two databases, in the same run; and maskd's peak RSS after each size."""
    fresh_databases()
    psql("postgres", "DROP DATABASE IF EXISTS maskd_bench_source WITH (FORCE)")
    psql("postgres", "CREATE DATABASE maskd_bench_source")
    table = "(id bigint PRIMARY KEY, a text, b text, c text)"
    for rows in sizes:
        psql("maskd_bench_source", f"CREATE TABLE people_{rows} {table}; INSERT INTO people_{rows} "
             f"SELECT g, 'first' || g, 'last' || (g % 9973), 'Full Name ' || g FROM generate_series(1, {rows}) g")
        psql("maskd_bench_target", f"CREATE TABLE people_{rows} {table}; CREATE TABLE copied_{rows} {table}")
    psql("maskd_bench_source", "VACUUM ANALYZE")
    maskd = Maskd(workers=1)
    source = maskd.connector("maskd_bench_source")
    results = []
    for rows in sizes:
        started = time.monotonic()
        out = subprocess.Popen(["psql", f"{PG}/maskd_bench_source", "-qAtX", "-c", f"COPY people_{rows} TO STDOUT"],
                               stdout=subprocess.PIPE)
        subprocess.run(["psql", f"{PG}/maskd_bench_target", "-qAtX", "-v", "ON_ERROR_STOP=1", "-c",
                        f"COPY copied_{rows} FROM STDIN"], stdin=out.stdout, check=True, capture_output=True)
        out.stdout.close()
        assert out.wait() == 0
        copy_secs = time.monotonic() - started
        rs = maskd.ruleset_of({f"people_{rows}": {"a": "FirstNameLookup", "b": "LastNameLookup", "c": "FullNameLookup"}})
        job = maskd.call("POST", "/masking-jobs", {
            "jobName": f"copy {rows}", "rulesetId": rs, "feedbackSize": 50000, "onTheFlyMasking": True,
            "onTheFlyMaskingSource": {"connectorId": source, "connectorType": "DATABASE"},
            "databaseMaskingOptions": {"commitSize": 100000, "truncateTables": True}})
        e = maskd.call("POST", "/executions", {"jobId": job["maskingJobId"]})
        e = maskd.wait_end(e["executionId"])
        assert e["status"] == "SUCCEEDED", e
        secs = float(psql("maskd_bench", f"SELECT extract(epoch FROM end_time - start_time) FROM executions WHERE execution_id = {e['executionId']}"))
        assert int(psql("maskd_bench_target", f"SELECT count(*) FROM people_{rows}")) == rows
        results.append({"rows": rows, "copy_rows_per_s": round(rows / copy_secs), "maskd_rows_per_s": round(rows / secs),
                        "ratio": round(copy_secs / secs, 2), "maskd_peak_rss_mb": round(maskd.peak_rss_mb(), 1)})
    maskd.stop()
    for r in results:
        print(json.dumps(r))


def profile(sizes):
    corpus = os.path.join(ROOT, "tests", "corpus")
    with open(os.path.join(corpus, "truth.csv")) as f:
        truth = {(t, c): d or None for t, c, d in (line.rstrip("\n").split(",") for line in list(f)[1:])}
    tables = sorted({t for t, _ in truth})
    fresh_databases()
    subprocess.run(["psql", f"{PG}/maskd_bench_target", "-v", "ON_ERROR_STOP=1", "-qX", "-f",
                    os.path.join(corpus, "corpus.sql")], check=True, capture_output=True)
    for rows in sizes:
        psql("maskd_bench_target", f"CREATE SCHEMA s{rows}; SELECT corpus_make('s{rows}', {rows})")
    psql("maskd_bench_target", "VACUUM ANALYZE")
    maskd = Maskd(workers=1)
    runs = []
    for rows in sizes:
        rs = maskd.ruleset_of({t: {} for t in tables}, schema=f"s{rows}")
        job = maskd.call("POST", "/profile-jobs", {"jobName": f"corpus {rows}", "rulesetId": rs, "profileSetId": 1})
        e = maskd.call("POST", "/executions", {"jobId": job["profileJobId"]})
        e = maskd.wait_end(e["executionId"])
        assert e["status"] == "SUCCEEDED", e
        secs = float(psql("maskd_bench", f"SELECT extract(epoch FROM end_time - start_time) FROM executions WHERE execution_id = {e['executionId']}"))
        results = maskd.call("GET", f"/profile-results-database/{e['executionId']}?page_size=1000&page_number=1")["responseList"]
        found = {(r["tableName"], r["columnName"]): r["domainName"] for r in results}
        runs.append((rows, secs, found))
    maskd.stop()
    print("| rows per table | columns | run (s) | ratio to the first |")
    print("| --- | --- | --- | --- |")
    for rows, secs, _ in runs:
        print(f"| {rows:,} | {len(truth)} | {secs:.2f} | {secs / runs[0][1]:.2f} |")
    print("\n| kind | columns | found | false alarms | precision | recall |")
    print("| --- | --- | --- | --- | --- | --- |")
    found = runs[-1][2]
    kinds = sorted({d for d in truth.values() if d} | {d for d in found.values() if d})
    for kind in kinds:
        tp = sum(1 for k, d in truth.items() if d == kind and found.get(k) == kind)
        fp = sum(1 for k, d in truth.items() if found.get(k) == kind and d != kind)
        n = sum(1 for d in truth.values() if d == kind)
        print(f"| {kind} | {n} | {tp} | {fp} | {tp / max(tp + fp, 1):.2f} | {tp / max(n, 1):.2f} |")


def chunks(rows, workers, cancels):
    fresh_databases()
    db = "maskd_bench_target"
    psql(db, "CREATE TABLE original (id bigint PRIMARY KEY, a text, b text, c text)")
    psql(db, f"INSERT INTO original SELECT g, 'first' || g, 'last' || (g % 9973), 'Full Name ' || g "
         f"FROM generate_series(1, {rows}) g")

    def fresh(table):
        psql(db, f"DROP TABLE IF EXISTS {table}")
        psql(db, f"CREATE TABLE {table} AS SELECT * FROM original")
        psql(db, f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
        psql(db, f"VACUUM ANALYZE {table}")

    fresh("by_sql")
    started = time.monotonic()
    psql(db, "UPDATE by_sql SET a = md5(a), b = md5(b), c = md5(c)")
    sql_rate = rows / (time.monotonic() - started)
    columns = {"masked": {"a": "FirstNameLookup", "b": "LastNameLookup", "c": "FullNameLookup"}}
    results, first = [], None
    for setup in [[w] for w in workers] + [[1, 1]]:
        fresh("masked")
        instances = [Maskd(workers=w) for w in setup]
        job = instances[0].job_on(columns)
        e = instances[0].call("POST", "/executions", {"jobId": job})
        e = instances[0].wait_end(e["executionId"])
        assert e["status"] == "SUCCEEDED", e
        secs = float(psql("maskd_bench", f"SELECT extract(epoch FROM end_time - start_time) FROM executions WHERE execution_id = {e['executionId']}"))
        chunked = int(psql("maskd_bench", f"SELECT count(*) FROM execution_chunks WHERE execution_id = {e['executionId']}"))
        rss = max(m.peak_rss_mb() for m in instances)
        for m in instances:
            m.stop()
        psql("maskd_bench", "TRUNCATE executions CASCADE")
        rate = rows / secs
        first = first or rate
        results.append({"instances": len(setup), "workers": sum(setup), "chunks": chunked, "rows_per_s": round(rate),
                        "vs_md5": round(rate / sql_rate, 2), "vs_first": round(rate / first, 2),
                        "peak_rss_mb": round(rss, 1)})
    fresh("masked")
    most = max(workers)
    maskd = Maskd(workers=most)
    job = maskd.job_on(columns, {"commitSize": 1000})
    for _ in range(cancels):
        e = maskd.call("POST", "/executions", {"jobId": job, "startOver": True})
        i = e["executionId"]
        while int(psql("maskd_bench", f"SELECT count(*) FROM execution_chunks WHERE execution_id = {i} AND worker_id IS NOT NULL AND NOT done")) < most:
            time.sleep(0.01)
        maskd.call("POST", f"/executions/{i}/cancel?expectedStatus=RUNNING&graceful=true")
        maskd.wait_end(i)
    stop = [float(x) * 1000 for x in psql("maskd_bench", f"SELECT extract(epoch FROM end_time - cancel_time) FROM executions WHERE job_id = {job}").split()]
    maskd.stop()
    print(json.dumps({"rows": rows, "sql_md5_rows_per_s": round(sql_rate), "runs": results,
                      "cancel_to_end_ms": {"workers": most, "runs": len(stop), "p50": round(pct(stop, 50), 1),
                                           "p99": round(pct(stop, 99), 1)}}, indent=1))


def latency(runs):
    fresh_databases()
    psql("maskd_bench_target", "CREATE TABLE small (id bigint PRIMARY KEY, a text)")
    psql("maskd_bench_target", "INSERT INTO small SELECT g, 'first' || g FROM generate_series(1, 10) g")
    psql("maskd_bench_target", "CREATE TABLE big (id bigint PRIMARY KEY, a text)")
    psql("maskd_bench_target", "INSERT INTO big SELECT g, 'first' || g FROM generate_series(1, 2000000) g")
    maskd = Maskd(workers=1)
    small = maskd.job_on({"small": {"a": "FirstNameLookup"}})
    for _ in range(runs):
        e = maskd.call("POST", "/executions", {"jobId": small})
        maskd.wait_end(e["executionId"])
        time.sleep(0.02)  # idle instance: the worker is waiting when the next one arrives
    claim = [float(x) * 1000 for x in psql("maskd_bench", f"SELECT extract(epoch FROM start_time - submit_time) FROM executions WHERE job_id = {small}").split()]
    big = maskd.job_on({"big": {"a": "FirstNameLookup"}}, {"commitSize": 1000})
    cancels = max(20, runs // 10)
    for _ in range(cancels):
        e = maskd.call("POST", "/executions", {"jobId": big})
        while maskd.call("GET", f"/executions/{e['executionId']}")["rowsMasked"] == 0:
            time.sleep(0.01)
        maskd.call("POST", f"/executions/{e['executionId']}/cancel?expectedStatus=RUNNING&graceful=true")
        maskd.wait_end(e["executionId"])
    stop = [float(x) * 1000 for x in psql("maskd_bench", f"SELECT extract(epoch FROM end_time - cancel_time) FROM executions WHERE job_id = {big}").split()]
    maskd.stop()
    print(json.dumps({"submit_to_running_ms": {"runs": len(claim), "p50": round(pct(claim, 50), 1), "p99": round(pct(claim, 99), 1)},
                      "cancel_to_end_ms": {"runs": len(stop), "p50": round(pct(stop, 50), 1), "p99": round(pct(stop, 99), 1)}}))


def wrk(maskd, script, connections, seconds, first, last):
    """Runs bench/wrk/<script>.lua; requests/s, p50 and p99 in ms, and failed answers."""
    env = dict(os.environ, MASKD_TOKEN=maskd.token, FIRST_ID=str(first), LAST_ID=str(last), THREADS="2")
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", f"bench/wrk/{script}.lua",
                          f"http://127.0.0.1:{maskd.port}"], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    fields = dict(kv.split("=") for kv in next(l for l in out.splitlines() if l.startswith("RESULT")).split()[1:])
    return {"rps": float(fields["requests"]) / float(fields["seconds"]), "p50": float(fields["p50_ms"]),
            "p99": float(fields["p99_ms"]), "failed": int(fields["errors"]) + int(fields["non2xx"])}


def pgbench(script, connections, seconds, first, last):
    """Runs bench/pgbench/<script>.sql; transactions/s, p50 and p99 in ms (from the per-transaction
    log), and failed transactions."""
    logs = os.path.join(ROOT, "target", "bench-pgbench")
    subprocess.run(["rm", "-rf", logs], check=True)
    os.makedirs(logs)
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(connections), "-j", "2", "-T", str(seconds),
                          "-D", f"first={first}", "-D", f"last={last}", "-f", f"bench/pgbench/{script}.sql",
                          "-l", "--log-prefix", os.path.join(logs, "tx"), f"{PG}/maskd_bench"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    tps = float(next(l for l in out.splitlines() if l.startswith("tps")).split()[2])
    failed = int(re.search(r"number of failed transactions: (\d+)", out).group(1)) if "number of failed" in out else 0
    latencies = []
    for name in os.listdir(logs):
        with open(os.path.join(logs, name)) as f:
            latencies.extend(int(line.split()[2]) / 1000 for line in f)
    return {"rps": tps, "p50": pct(latencies, 50), "p99": pct(latencies, 99), "failed": failed}


def combined(runs):
    """Runs of equal length as one: mean rate, median p50 and p99, all failures."""
    return {"rps": statistics.mean(r["rps"] for r in runs), "p50": statistics.median(r["p50"] for r in runs),
            "p99": statistics.median(r["p99"] for r in runs), "failed": sum(r["failed"] for r in runs)}


def api(rows, seconds, connections, rounds, operations):
    fresh_databases()
    maskd = Maskd(workers=0, log_level=os.environ.get("BENCH_LOG", "info"))
    try:
        api_runs(maskd, rows, seconds, connections, rounds, operations)
    finally:
        maskd.stop()


def api_runs(maskd, rows, seconds, connections, rounds, operations):
    free = 400_000 * len(connections)
    env = maskd.call("POST", "/environments", {"environmentName": "bench", "applicationName": "bench"})
    c = maskd.call("POST", "/database-connectors", {
        "connectorName": "bench", "environmentId": env["environmentId"], "host": "127.0.0.1", "port": 5432,
        "databaseName": "maskd_bench", "schemaName": "public", "username": "postgres", "password": "unused"})
    rs = maskd.call("POST", "/database-rulesets", {"rulesetName": "bench", "databaseConnectorId": c["databaseConnectorId"]})
    started = time.monotonic()
    subprocess.run(["psql", f"{PG}/maskd_bench", "-qX", "-v", "ON_ERROR_STOP=1", "-v", f"rows={rows}", "-v", f"free={free}",
                    "-v", f"ruleset={rs['databaseRulesetId']}", "-f", "bench/seed.sql"], cwd=ROOT, check=True)
    print(f"seeded {rows} QUEUED executions and {free} free jobs in {time.monotonic() - started:.0f} s", file=sys.stderr)
    first, last = map(int, psql("maskd_bench", "SELECT min(execution_id), max(execution_id) FROM executions").split("|"))

    # Each round of submits has its own slice of the free jobs (a wrk thread submits its half of
    # its slice in order).
    free_first = int(psql("maskd_bench", "SELECT max(job_id) + 1 FROM executions"))
    free_slice = free // (len(connections) * rounds)

    def submit_range(i, k):
        lo = free_first + (i * rounds + k) * free_slice
        return lo, lo + free_slice - 1

    # Warm-up, not measured: maskd's HTTP workers open their connections on first use, and each
    # connection prepares its statements; pgbench gets the same.
    wrk(maskd, "get", max(connections), 3, first, last)
    pgbench("get", max(connections), 3, first, last)
    results = []
    for what, script in (("cancel", "cancel"), ("GET", "get"), ("submit", "submit")):
        if what not in operations:
            continue
        for i, n in enumerate(connections):
            # Alternating short runs: the machine's speed drifts (it is shared), and both sides of
            # a ratio should see the same drift.
            ms, ps = [], []
            for k in range(rounds):
                lo, hi = submit_range(i, k) if script == "submit" else (first, last)
                ms.append(wrk(maskd, script, n, seconds, lo, hi))
                ps.append(pgbench(script, n, seconds, lo, hi))
            m, p = combined(ms), combined(ps)
            results.append({"what": what, "connections": n, "maskd": m, "pgbench": p, "ratio": m["rps"] / p["rps"],
                            "round_ratios": [a["rps"] / b["rps"] for a, b in zip(ms, ps)]})
            print(json.dumps(results[-1]), file=sys.stderr)
    rss = maskd.peak_rss_mb()
    print("| operation | connections | maskd requests/s | p50 / p99 ms | pgbench tx/s | p50 / p99 ms | ratio | rounds' ratios |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        m, p = r["maskd"], r["pgbench"]
        print(f"| {r['what']} | {r['connections']} | {m['rps']:,.0f} | {m['p50']:.2f} / {m['p99']:.2f} | "
              f"{p['rps']:,.0f} | {p['p50']:.2f} / {p['p99']:.2f} | {r['ratio']:.2f} | "
              + " ".join(f"{x:.2f}" for x in r["round_ratios"]) + " |")
    print(f"\nmaskd peak RSS (VmHWM): {rss:.1f} MB; failed answers: "
          + ", ".join(f"{r['what']}@{r['connections']}: maskd {r['maskd']['failed']}, pgbench {r['pgbench']['failed']}" for r in results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput"); t.add_argument("--rows", type=int, default=1_000_000)
    l = sub.add_parser("latency"); l.add_argument("--runs", type=int, default=200)
    c = sub.add_parser("chunks"); c.add_argument("--rows", type=int, default=1_000_000)
    c.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4]); c.add_argument("--cancels", type=int, default=20)
    pr = sub.add_parser("profile"); pr.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    o = sub.add_parser("onthefly"); o.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    a = sub.add_parser("api"); a.add_argument("--rows", type=int, default=1_000_000)
    a.add_argument("--seconds", type=int, default=5); a.add_argument("--rounds", type=int, default=3)
    a.add_argument("--connections", type=int, nargs="+", default=[8, 32])
    a.add_argument("--operations", nargs="+", choices=["cancel", "GET", "submit"], default=["cancel", "GET", "submit"])
    for p in (t, l, c, pr, o, a):
        p.add_argument("--binary", default=BINARY, help="the maskd to run (default: target/release/maskd)")
    args = parser.parse_args()
    check_tools(args.what)
    BINARY = os.path.abspath(args.binary)
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} does not exist: build the release binary first (cargo build --release)")
    if args.what == "throughput":
        throughput(args.rows)
    elif args.what == "latency":
        latency(args.runs)
    elif args.what == "chunks":
        chunks(args.rows, args.workers, args.cancels)
    elif args.what == "profile":
        profile(args.rows)
    elif args.what == "onthefly":
        on_the_fly(args.rows)
    else:
        api(args.rows, args.seconds, args.connections, args.rounds, args.operations)
