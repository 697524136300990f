#!/usr/bin/env python3
"""Engine benchmarks against a real PostgreSQL and the release binary (see BENCHMARKS.md).

  python3 bench/engine_bench.py throughput [--rows 1000000]
      rows masked per second on a table with three masked text columns, beside
      UPDATE t SET a = md5(a), b = md5(b), c = md5(c) on an identical table, in the same run;
      and maskd's peak RSS (VmHWM) during the masking run.
  python3 bench/engine_bench.py latency [--runs 200]
      submit-to-RUNNING (startTime - submitTime) on an idle instance, and cancel-to-endTime
      (endTime - cancel time, both PostgreSQL clocks) for running jobs; p50 and p99.

Needs: target/release/maskd (cargo build --release), psql, a PostgreSQL at $BENCH_PG (default
postgres://postgres@127.0.0.1:5432). Uses the databases maskd_bench and maskd_bench_target,
which it drops and re-creates.
"""
import argparse, json, os, signal, socket, statistics, subprocess, sys, time, urllib.request

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "maskd")


def psql(db, sql, quiet=True):
    out = subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def fresh_databases():
    for db in ("maskd_bench", "maskd_bench_target"):
        psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql("postgres", "CREATE DATABASE maskd_bench_target")


class Maskd:
    def __init__(self, workers=1):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, DATABASE_URL=f"{PG}/maskd_bench", MASKD_BIND=f"127.0.0.1:{self.port}",
                   MASKD_WORKERS=str(workers), MASKD_ADMIN_PASSWORD="bench", MASKD_SECRET_KEY="bench-key",
                   RUST_LOG="warn")
        self.proc = subprocess.Popen([BINARY, "serve"], env=env)
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
        url = PG.split("://", 1)[1]
        user = url.split("@")[0].split(":")[0]
        host, port = url.split("@")[1].split(":")
        env = self.call("POST", "/environments", {"environmentName": f"e{time.time_ns()}", "applicationName": "bench"})
        c = self.call("POST", "/database-connectors", {
            "connectorName": "target", "environmentId": env["environmentId"], "host": host, "port": int(port),
            "databaseName": "maskd_bench_target", "schemaName": "public", "username": user,
            "password": os.environ.get("PGPASSWORD", "unused")})
        rs = self.call("POST", "/database-rulesets", {"rulesetName": "rs", "databaseConnectorId": c["databaseConnectorId"]})
        for table, columns in tables.items():
            t = self.call("POST", "/table-metadata", {"tableName": table, "rulesetId": rs["databaseRulesetId"]})
            cols = self.call("GET", f"/column-metadata?table_metadata_id={t['tableMetadataId']}")["responseList"]
            for col in cols:
                if col["columnName"] in columns:
                    self.call("PUT", f"/column-metadata/{col['columnMetadataId']}", {"algorithmName": columns[col["columnName"]]})
        job = {"jobName": "bench", "rulesetId": rs["databaseRulesetId"], "feedbackSize": 50000,
               "databaseMaskingOptions": options or {"commitSize": 10000}}
        return self.call("POST", "/masking-jobs", job)["maskingJobId"]

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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput"); t.add_argument("--rows", type=int, default=1_000_000)
    l = sub.add_parser("latency"); l.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build the release binary first: cargo build --release")
    throughput(args.rows) if args.what == "throughput" else latency(args.runs)
